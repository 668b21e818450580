#!/bin/bash
# gRPC calls with Kestrel's kestrel.queued_requests through prometheus-net's meter adapter (a build
# before 69c2904) against bound series (this build): two servers up side by side, h2load
# (nghttp2-client) sends the ctr-ranker batch1 ModelInfer to each in turn, alternating which goes
# first, on one connection with <streams> calls in flight (1: a lone call).
# Usage: perf/experiments/kestrel-queued-requests/ab.sh <checkout of the build before, built> [rounds=5] [requests=20000] [streams=1]
#   (after dotnet pwsh build.ps1 build here; needs h2load and Debian's python3-grpc-tools, python3-msgpack, python3-numpy)
set -euo pipefail
cd "$(dirname "$0")/../../.."
before=$1; rounds=${2:-5}; n=${3:-20000}; streams=${4:-1}
work=$(mktemp -d)
/usr/bin/python3 perf/experiments/grpc-server-cost/make_bodies.py "$work"
start() { # dll http-port grpc-port
  dotnet "$1" --model-repository models --urls "http://127.0.0.1:$2" --grpc-urls "http://127.0.0.1:$3" --Logging:LogLevel:Default=Warning > "$work/$2.log" 2>&1 &
  echo $!
}
a=$(start "$before/host/bin/Release/net10.0/LowLatency.Host.dll" 8240 8241)
b=$(start host/bin/Release/net10.0/LowLatency.Host.dll 8250 8251)
trap 'kill $a $b 2>/dev/null; rm -rf "$work"' EXIT
for port in 8240 8250; do
  for i in $(seq 1 200); do curl -sf "localhost:$port/v2/health/ready" > /dev/null && break; sleep 0.3; done
done
one() { # label grpc-port
  rm -f "$work/l.log"
  rps=$(h2load -n "$n" -c 1 -m "$streams" -d "$work/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
    --log-file "$work/l.log" "http://127.0.0.1:$2/inference.GRPCInferenceService/ModelInfer" | grep -o '[0-9.]* req/s' | head -1)
  /usr/bin/python3 -c "
import sys
rows = sorted((int(f[0]), int(f[2])) for f in (l.split() for l in open(sys.argv[1]) if l.strip()))
lat = sorted(d for _, d in rows[len(rows) // 10:])   # by start time, the first tenth is warm-up
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f'{sys.argv[2]}\tm={sys.argv[3]}\t{sys.argv[4]}\tp50 {p(0.5)} us\tp99 {p(0.99)} us\tn {len(lat)}')" "$work/l.log" "$1" "$streams" "$rps"
}
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then one adapter 8241; one bound 8251; else one bound 8251; one adapter 8241; fi
done
