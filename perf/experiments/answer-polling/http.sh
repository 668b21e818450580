#!/bin/bash
# usage: http.sh <rounds>, from anywhere: the host (this build) with answer polling off
# (LowLatency__AnswerPollMicroseconds=0) and on (=500), interleaved. Per round and side:
# wrk c=1 and c=16 (../common/wrkab.sh: a fresh server each, 4 s warm-up, 8 s
# measured), then loadgen c=1 against another fresh server for the Server-Timing percentiles.
cd "$(dirname "$0")/../../.."
W=perf/experiments/common/wrkab.sh
LG=perf/LoadGen/bin/Release/net10.0/loadgen.dll
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
for r in $(seq 1 "$1"); do
  for side in off on; do
    env=(LowLatency__AnswerPollMicroseconds=500); [ $side = off ] && env=(LowLatency__AnswerPollMicroseconds=0)
    $W $side 1 "${env[@]}"
    $W $side 16 "${env[@]}"
    env "${env[@]}" dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    dotnet $LG --url $URL --concurrency 1 --warmup 2 --duration 8 --label "$side loadgen c=1 round $r" 2>/dev/null | tail -1
    kill $pid; wait $pid 2>/dev/null
  done
done
