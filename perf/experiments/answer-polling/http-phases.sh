#!/bin/bash
# usage: http-phases.sh <rounds>, from anywhere: one server per round and side (answer polling off:
# LowLatency__AnswerPollMicroseconds=0; on: =500), first at low load (wrk c=1, 4 s warm-up
# + 8 s measured: requests alone in flight, polled when on), then in the same process at c=16
# (8 s): does a server whose code was tiered up at low load do worse under load?
cd "$(dirname "$0")/../../.."
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
for r in $(seq 1 "$1"); do
  for side in off on; do
    env=(LowLatency__AnswerPollMicroseconds=500); [ $side = off ] && env=(LowLatency__AnswerPollMicroseconds=0)
    if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 8002" >&2; exit 1; fi
    env "${env[@]}" dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    WRK_BODY=$body wrk -t1 -c1 -d4s -s perf/wrk/post.lua $URL >/dev/null
    echo "$side c=1 $(WRK_BODY=$body wrk -t1 -c1 -d8s -s perf/wrk/post.lua $URL | tail -1)"
    echo "$side c=16 after c=1 $(WRK_BODY=$body wrk -t1 -c16 -d8s -s perf/wrk/post.lua $URL | tail -1)"
    kill $pid; wait $pid 2>/dev/null
  done
done
rm -f "$body"
