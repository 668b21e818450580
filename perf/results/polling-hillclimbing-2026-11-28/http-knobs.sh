#!/bin/bash
# http-knobs.sh <rounds>: this build's server with each of its two new defaults turned back by the
# environment: both old (answer polling 0, hill climbing on), polling only, hill climbing off only,
# both new (the defaults). One fresh server per round and arm, the order rotating per round; wrk c=1
# (4 s warm-up + 8 s), then c=16 (8 s) in the same process. Run from the repository root after
# `dotnet build -c Release host` and the LoadGen build. "This build" was one of this session that
# was not kept (answer polling on by default, hill climbing off in its runtimeconfig): "new" names
# those settings explicitly, so that today's build reproduces the arms.
cd "$(dirname "$0")/../../.."
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
arms=(old poll hcoff new)
for r in $(seq 1 "$1"); do
  k=$(( (r - 1) % 4 ))
  for arm in "${arms[@]:$k}" "${arms[@]:0:$k}"; do
    case $arm in
      old) env=(LowLatency__AnswerPollMicroseconds=0 DOTNET_HillClimbing_Disable=0);;
      poll) env=(LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=0);;
      hcoff) env=(LowLatency__AnswerPollMicroseconds=0 DOTNET_HillClimbing_Disable=1);;
      new) env=(LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=1);;
    esac
    if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 8002" >&2; exit 1; fi
    env "${env[@]}" dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
    WRK_BODY=$body wrk -t1 -c1 -d4s -s perf/wrk/post.lua $URL >/dev/null
    echo "$arm c=1 $(WRK_BODY=$body wrk -t1 -c1 -d8s -s perf/wrk/post.lua $URL | tail -1)"
    echo "$arm c=16 $(WRK_BODY=$body wrk -t1 -c16 -d8s -s perf/wrk/post.lua $URL | tail -1)"
    kill $pid; wait $pid 2>/dev/null
  done
done
rm -f "$body"
