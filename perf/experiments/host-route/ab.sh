#!/usr/bin/env bash
# ab.sh <rounds> <old LowLatency.Host.dll> [new dll]: alternating fresh servers on ctr-ranker, MessagePack,
# wrk closed loop (perf/wrk/post.lua) at $CONC (default "1 16"), 5 s each after a 2 s warm-up run; one line per run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
new=${3:-host/bin/Release/net10.0/LowLatency.Host.dll}
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
url=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
for r in $(seq 1 "$1"); do
  if [ $((r % 2)) -eq 1 ]; then arms="new old"; else arms="old new"; fi
  for arm in $arms; do
    dll=$new; [ "$arm" = old ] && dll=$2
    dotnet "$dll" --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 150); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    for c in ${CONC:-1 16}; do
      WRK_BODY=$body wrk -t1 -c$c -d2s -s perf/wrk/post.lua $url >/dev/null
      echo "$arm r$r c$c $(WRK_BODY=$body wrk -t1 -c$c -d5s -s perf/wrk/post.lua $url | grep '^wrk')"
    done
    kill $pid; wait $pid 2>/dev/null || true; sleep 0.5
  done
done
rm -f "$body"
