#!/bin/bash
# httpfinal.sh <rounds> <old worktree>: the server of an older build (3dc6219 here) against this
# checkout's, default settings, one fresh server per round and side, the order alternating; wrk c=1
# (4 s warm-up + 8 s), then c=16 (8 s) in the same process. Both serve this checkout's models/.
# "new" was a build of this session that was not kept: answer polling on by default (500 us) and
# hill climbing off in the host's and enginebench's runtimeconfig. Today's build gets the same
# from the settings below.
cd "$(dirname "$0")/../../.."
oldtree=${2:?usage: httpfinal.sh <rounds> <old worktree>}
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
for r in $(seq 1 "$1"); do
  sides="old new"; [ $((r % 2)) = 0 ] && sides="new old"
  for side in $sides; do
    dll=host/bin/Release/net10.0/LowLatency.Host.dll; [ $side = old ] && dll=$oldtree/host/bin/Release/net10.0/LowLatency.Host.dll
    if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 8002" >&2; exit 1; fi
    env=(LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=1); [ $side = old ] && env=(X=1)
    env "${env[@]}" dotnet $dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    WRK_BODY=$body wrk -t1 -c1 -d4s -s perf/wrk/post.lua $URL >/dev/null
    echo "$side c=1 $(WRK_BODY=$body wrk -t1 -c1 -d8s -s perf/wrk/post.lua $URL | tail -1)"
    echo "$side c=16 $(WRK_BODY=$body wrk -t1 -c16 -d8s -s perf/wrk/post.lua $URL | tail -1)"
    kill $pid; wait $pid 2>/dev/null
  done
done
rm -f "$body"
