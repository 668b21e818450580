#!/bin/bash
# http3.sh <rounds>: one server per round and arm, wrk c=1 (4 s warm-up + 8 s), then c=16 (8 s) in the
# same process; arms: answer polling off/on (LowLatency__AnswerPollMicroseconds 0/500) x hill climbing
# on/off (DOTNET_HillClimbing_Disable=1); three arms (off, on, offhc), their order rotating per round.
cd "$(dirname "$0")/../../.."
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
for r in $(seq 1 "$1"); do
  arms=(off on offhc); k=$(( (r-1) % 3 )); for arm in "${arms[@]:$k}" "${arms[@]:0:$k}"; do
    case $arm in
      off) env=(LowLatency__AnswerPollMicroseconds=0 DOTNET_HillClimbing_Disable=0);;
      on) env=(LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=0);;
      offhc) env=(LowLatency__AnswerPollMicroseconds=0 DOTNET_HillClimbing_Disable=1);;
      onhc) env=(LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=1);;
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
