#!/bin/bash
# CPU per call by module, gRPC ModelInfer against MessagePack HTTP at concurrency 1 (identity, h2load):
# the server under `perf record` for 4 s of each, JIT symbols through its perf map; samples turned
# into µs per call with the call rate h2load measured. Usage: perf/experiments/grpc-floor/profile.sh
#   (after dotnet pwsh build.ps1 build; needs linux-perf, h2load, Debian's python3-grpc-tools, python3-msgpack)
set -euo pipefail
cd "$(dirname "$0")/../../.."
work=$(mktemp -d)
/usr/bin/python3 perf/experiments/grpc-server-cost/make_bodies.py "$work" identity
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 dotnet host/bin/Release/net10.0/LowLatency.Host.dll --model-repository perf/models \
  --urls http://127.0.0.1:8140 --grpc-urls http://127.0.0.1:8141 --Logging:LogLevel:Default=Warning > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for i in $(seq 1 200); do curl -sf -o /dev/null localhost:8140/v2/health/ready && break; sleep 0.3; done
grpc=(-d "$work/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' http://127.0.0.1:8141/inference.GRPCInferenceService/ModelInfer)
http=(--h1 -d "$work/msgpack.bin" -H 'Content-Type: application/msgpack' http://127.0.0.1:8140/v2/models/identity/infer)
h2load -n 40000 -c 1 -m 1 "${grpc[@]}" > /dev/null   # warm-up: both paths tiered up
h2load -n 40000 -c 1 -m 1 "${http[@]}" > /dev/null
for mode in grpc http; do
  if [ $mode = grpc ]; then args=("${grpc[@]}"); else args=("${http[@]}"); fi
  h2load -D 6 -c 1 -m 1 "${args[@]}" > "$work/$mode.h2load" &
  load=$!
  sleep 1
  # cpu-clock: by_module.py reads the event count as nanoseconds of CPU.
  perf record -e cpu-clock -F 4000 -g -p $server -o "$work/$mode.data" -- sleep 4 > /dev/null 2>&1
  wait $load
  grep -o '[0-9.]* req/s' "$work/$mode.h2load" | head -1 > "$work/$mode.rate"
done
/usr/bin/python3 perf/experiments/grpc-floor/by_module.py "$work/grpc.data" "$(cut -d' ' -f1 "$work/grpc.rate")" "$work/http.data" "$(cut -d' ' -f1 "$work/http.rate")"
