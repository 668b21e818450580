#!/bin/bash
# usage: wrkab.sh <label> <conc> [env...]
cd /work/main
label=$1; c=$2; shift 2
env "$@" dotnet ${DLL:-host/bin/Release/net10.0/LowLatency.Host.dll} --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
WRK_BODY=/tmp/wk/body.msgpack wrk -t1 -c$c -d4s -s perf/wrk/post.lua $URL >/dev/null
line=$(WRK_BODY=/tmp/wk/body.msgpack wrk -t1 -c$c -d8s -s perf/wrk/post.lua $URL | tail -1)
kill $pid; wait $pid 2>/dev/null
echo "$label c=$c $line"
