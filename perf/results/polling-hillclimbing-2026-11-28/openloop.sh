#!/bin/bash
# openloop.sh <rounds>: the server as shipped (hill climbing on), answer polling on (500 us) and off
# (the default), one fresh server per round and side, order alternating: loadgen's open loop at
# 500 req/s (2 s warm-up + 8 s), after a 4 s wrk c=1 warm-up, and the server's CPU seconds over it.
cd "$(dirname "$0")/../../.."
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
tick=$(getconf CLK_TCK)
cpu() { awk -v t=$tick '{print ($14 + $15) / t}' /proc/$1/stat; }
for r in $(seq 1 "$1"); do
  sides="on off"; [ $((r % 2)) = 0 ] && sides="off on"
  for side in $sides; do
    poll=500; [ $side = off ] && poll=0
    if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 8002" >&2; exit 1; fi
    LowLatency__AnswerPollMicroseconds=$poll dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    WRK_BODY=$body wrk -t1 -c1 -d4s -s perf/wrk/post.lua $URL >/dev/null
    a=$(cpu $pid); line=$(dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url $URL --golden models/ctr-ranker/golden/batch1.json --rate 500 --duration 8 --warmup 2 2>&1 | tr "\r" "\n" | grep -o "run.rate=.*" | tail -1); b=$(cpu $pid)
    echo "$side rate=500 cpu_s $(echo "$b - $a" | bc) $line"
    kill $pid; wait $pid 2>/dev/null
  done
done
rm -f "$body"
