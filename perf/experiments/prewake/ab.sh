#!/bin/bash
# usage: ab.sh <rounds>   (OLD=<the other build's LowLatency.Host.dll>), from anywhere.
# NEW: the host built with prewake.patch applied (on 7d6d14c).
# Per round and side: one fresh server, then loadgen against ctr-ranker (MessagePack, batch 1):
# closed loop c=1 (8 s), then open loop at 500 req/s with Poisson arrivals (8 s), the low load
# where the device worker has parked between requests. Prints loadgen's lines, which carry the
# Server-Timing percentiles (queue, compute, overhead).
cd "$(dirname "$0")/../../.."
OLD=${OLD:?the other build: its host/bin/Release/net10.0/LowLatency.Host.dll}
NEW=${NEW:-host/bin/Release/net10.0/LowLatency.Host.dll}
LG=perf/LoadGen/bin/Release/net10.0/loadgen.dll
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
for r in $(seq 1 "$1"); do
  for side in old new; do
    dll=$OLD; [ $side = new ] && dll=$NEW
    if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 8002" >&2; exit 1; fi
    dotnet "$dll" --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    dotnet $LG --url $URL --concurrency 1 --warmup 2 --duration 8 --label "$side c=1 round $r" 2>/dev/null | tail -1
    dotnet $LG --url $URL --rate 500 --arrival poisson --warmup 2 --duration 8 --label "$side open 500/s round $r" 2>/dev/null | tail -1
    kill $pid; wait $pid 2>/dev/null
  done
done
