#!/usr/bin/env bash
# ab.sh <rounds> <new dll> <old dll>: alternating fresh servers, loadgen ctr-ranker msgpack c=64 then c=16 then c=1.
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
LG=perf/LoadGen/bin/Release/net10.0/loadgen.dll
run() { dotnet $LG --label $1 --url http://127.0.0.1:8002/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --duration 5 --warmup 2 --concurrency $2 2>/dev/null; }
for r in $(seq 1 $1); do
  if [ $((r % 2)) -eq 1 ]; then arms="new old"; else arms="old new"; fi
  for arm in $arms; do
    dll=$2; [ $arm = old ] && dll=$3
    dotnet $dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    for c in 64 16 1; do echo "$arm r$r c=$c $(run $arm $c | head -1)"; done
    kill $pid; wait $pid 2>/dev/null; sleep 0.5
  done
done
