#!/bin/bash
# usage: wrkab.sh <label> <conc> [env...]   (DLL=<another build's LowLatency.Host.dll> for the other side)
# One fresh server per run; wrk 4 s warm-up, then 8 s measured; prints wrk's line and the server's
# garbage collections since its start (startup and warm-up included), per generation.
cd "$(dirname "$0")/../../.."
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
label=$1; c=$2; shift 2
# Another server already on the port would answer both sides of an A/B (it happened once).
if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then
  echo "$label: something already answers on 127.0.0.1:8002; stop it first" >&2; rm -f "$body"; exit 1
fi
env "$@" dotnet ${DLL:-host/bin/Release/net10.0/LowLatency.Host.dll} --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
if ! kill -0 $pid 2>/dev/null; then
  echo "$label: the server exited during startup" >&2; rm -f "$body"; exit 1
fi
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
WRK_BODY=$body wrk -t1 -c$c -d4s -s perf/wrk/post.lua $URL >/dev/null
line=$(WRK_BODY=$body wrk -t1 -c$c -d8s -s perf/wrk/post.lua $URL | tail -1)
gcs=$(curl -s http://127.0.0.1:8002/metrics | sed -n 's/^dotnet_collection_count_total{generation="\([0-9]\)"} \([0-9]*\).*/gen\1=\2/p' | tr '\n' ' ')
kill $pid; wait $pid 2>/dev/null
rm -f "$body"
echo "$label c=$c $line gc: $gcs"
