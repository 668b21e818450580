#!/bin/bash
# Where gRPC's extra latency at concurrency 1 lies: the same C client (h2load, nghttp2-client) sends
# the ctr-ranker batch1 request to one server as MessagePack over HTTP/1.1 and as gRPC over h2c,
# interleaved, then the .NET load generator (LowLatency.Client's gRPC and raw HTTP) does the same.
# Usage: perf/experiments/grpc-server-cost/run.sh [rounds=3] [requests=30000]   (after build.ps1 build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-3}; n=${2:-30000}
work=$(mktemp -d)
/usr/bin/python3 perf/experiments/grpc-server-cost/make_bodies.py "$work"
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --model-repository models --urls http://127.0.0.1:8140 \
  --grpc-urls http://127.0.0.1:8141 --Logging:LogLevel:Default=Warning > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for i in $(seq 1 100); do curl -sf localhost:8140/v2/health/ready > /dev/null && break; sleep 0.3; done
pct() { /usr/bin/python3 -c "
import sys
rows = sorted((int(f[0]), int(f[2])) for f in (l.split() for l in open(sys.argv[1]) if l.strip()))
lat = sorted(d for _, d in rows[len(rows) // 10:])   # by start time, the first tenth is warm-up
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f'{sys.argv[2]:<22} p50 {p(0.5):>4} us  p90 {p(0.9):>4} us  p99 {p(0.99):>5} us  n {len(lat)}')" "$1" "$2"; }
for r in $(seq 1 "$rounds"); do
  rm -f "$work/h1.log" "$work/h2.log"   # h2load appends to its log file
  h2load --h1 -n "$n" -c 1 -m 1 -d "$work/msgpack.bin" -H 'Content-Type: application/msgpack' \
    --log-file "$work/h1.log" http://127.0.0.1:8140/v2/models/ctr-ranker/infer > /dev/null
  pct "$work/h1.log" "h2load http/1.1 msgpack"
  h2load -n "$n" -c 1 -m 1 -d "$work/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
    --log-file "$work/h2.log" http://127.0.0.1:8141/inference.GRPCInferenceService/ModelInfer > /dev/null
  pct "$work/h2.log" "h2load grpc (h2c)"
  dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url http://127.0.0.1:8140/v2/models/ctr-ranker/infer \
    --concurrency 1 --duration 8 --warmup 3 --label "loadgen http msgpack" | tr '\r' '\n' | grep -a $'^loadgen.*\treq/s\|^loadgen http msgpack\t' | tail -1 | cut -f1,3-6,10-
  dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --transport grpc --url http://127.0.0.1:8141 --model ctr-ranker \
    --concurrency 1 --duration 8 --warmup 3 --label "loadgen grpc" | tr '\r' '\n' | grep -a $'^loadgen grpc\t' | tail -1 | cut -f1,3-6,10-
done
