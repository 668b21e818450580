#!/usr/bin/env bash
# c16.sh <rounds> <new dll> <old dll>: alternating fresh servers, ctr-ranker MessagePack closed loop c=16, two 5 s runs each.
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
LG=perf/LoadGen/bin/Release/net10.0/loadgen.dll
for r in $(seq 1 $1); do
  if [ $((r % 2)) -eq 1 ]; then arms="new old"; else arms="old new"; fi
  for arm in $arms; do
    dll=$2; [ $arm = old ] && dll=$3
    dotnet $dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    for k in 1 2; do echo "$arm r$r k$k $(dotnet $LG --url http://127.0.0.1:8002/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --duration 5 --warmup 2 --concurrency 16 2>/dev/null | head -1)"; done
    kill $pid; wait $pid 2>/dev/null; sleep 0.5
  done
done
