#!/bin/bash
# Where a gRPC call's extra time at concurrency 1 lies, by floors: one C client (h2load,
# nghttp2-client) sends the ctr-ranker batch1 request (or identity's, perf/models: a forward of next
# to nothing, so that the rest shows), one at a time, to
#   floor-http     perf/Floor over HTTP/1.1 (MessagePack body, 96 bytes back)
#   floor-h2       perf/Floor's hand-written gRPC answer over HTTP/2: Kestrel's HTTP/2 alone
#   floor-grpc     perf/Floor's FloorService through Grpc.AspNetCore: the framework on top
#   server-http    the server, MessagePack over HTTP/1.1
#   server-grpc    the server, gRPC ModelInfer with raw_input_contents
# in an order that rotates with the round; the first tenth of each run is dropped as warm-up.
# Writes each run's line and the medians to perf/results/grpc-floor-<date>-<commit>/<model>/.
# Usage: perf/experiments/grpc-floor/run.sh [rounds=5] [requests=20000] [model=ctr-ranker|identity]
#   (after dotnet pwsh build.ps1 build; needs h2load and Debian's python3-grpc-tools, python3-msgpack, python3-numpy)
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-5}; n=${2:-20000}; model=${3:-ctr-ranker}
repository=models; [ "$model" = identity ] && repository=perf/models
out="perf/results/grpc-floor-$(date -u +%F)-$(git rev-parse --short HEAD)/$model"
mkdir -p "$out"
work=$(mktemp -d)
/usr/bin/python3 perf/experiments/grpc-server-cost/make_bodies.py "$work" "$model"
dotnet perf/Floor/bin/Release/net10.0/floor.dll --urls http://127.0.0.1:8170 --grpc-urls http://127.0.0.1:8171 \
  --grpc-service-urls http://127.0.0.1:8172 > "$work/floor.log" 2>&1 &
floor=$!
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --model-repository "$repository" --urls http://127.0.0.1:8140 \
  --grpc-urls http://127.0.0.1:8141 --Logging:LogLevel:Default=Warning > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server $floor 2>/dev/null; rm -rf "$work"' EXIT
for i in $(seq 1 200); do curl -sf -o /dev/null localhost:8140/v2/health/ready && break; sleep 0.3; done
for i in $(seq 1 200); do curl -s -o /dev/null localhost:8170/ && break; sleep 0.3; done   # the floor answers 404 there
sleep 1
targets=(floor-http floor-h2 floor-grpc server-http server-grpc)
one() { # label
  local url grpc=1
  case $1 in
    floor-http) url=http://127.0.0.1:8170/v2/models/$model/infer; grpc=0 ;;
    floor-h2) url=http://127.0.0.1:8171/inference.GRPCInferenceService/ModelInfer ;;
    floor-grpc) url=http://127.0.0.1:8172/inference.GRPCInferenceService/ModelInfer ;;
    server-http) url=http://127.0.0.1:8140/v2/models/$model/infer; grpc=0 ;;
    server-grpc) url=http://127.0.0.1:8141/inference.GRPCInferenceService/ModelInfer ;;
  esac
  rm -f "$work/l.log"
  if (( grpc )); then
    h2load -n "$n" -c 1 -m 1 -d "$work/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' --log-file "$work/l.log" "$url" > "$work/h2load.txt"
  else
    h2load --h1 -n "$n" -c 1 -m 1 -d "$work/msgpack.bin" -H 'Content-Type: application/msgpack' --log-file "$work/l.log" "$url" > "$work/h2load.txt"
  fi
  /usr/bin/python3 -c "
import re, sys
rows = sorted((int(f[0]), int(f[2])) for f in (l.split() for l in open(sys.argv[1]) if l.strip()) if f[1] == '200')
ok = len(rows)
lat = sorted(d for _, d in rows[len(rows) // 10:])   # by start time, the first tenth is warm-up
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f'{sys.argv[2]}\t{sys.argv[3]}\tp50 {p(0.5)}\tp99 {p(0.99)}\tok {ok} of {sys.argv[4]}')" "$work/l.log" "$1" "$r" "$n" | tee -a "$out/runs.tsv"
}
: > "$out/runs.tsv"
for r in $(seq 1 "$rounds"); do
  for i in 0 1 2 3 4; do one "${targets[$(( (i + r) % 5 ))]}"; done
done
/usr/bin/python3 perf/experiments/grpc-floor/medians.py "$out/runs.tsv" > "$out/medians.md"
cat "$out/medians.md"
