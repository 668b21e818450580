#!/bin/bash
# run.sh: wrk -t1 -c16 against three builds of the host, 3 interleaved rounds (as run on 2026-11-27):
#   adapter = 341e50e built with -o /tmp/basehost (prometheus-net's meter adapter on every engine instrument)
#   bound   = this tree's Release build (the engine's series bound once per version)
#   none    = 341e50e with MetricsEndpoint.Map commented out, built with -o /tmp/nometrics (no listener)
# WRK_BODY: the ctr-ranker batch-1 MessagePack body (loadgen body --golden ... --out /tmp/ctr.msgpack).
cd "$(dirname "$0")/../../.."
export WRK_BODY=/tmp/ctr.msgpack WRK_TYPE=application/msgpack
for i in 1 2 3; do
  for v in adapter bound none; do
    case $v in adapter) dll=/tmp/basehost/LowLatency.Host.dll;; bound) dll=host/bin/Release/net10.0/LowLatency.Host.dll;; none) dll=/tmp/nometrics/LowLatency.Host.dll;; esac
    pkill -f LowLatency.Host.dll; sleep 0.5
    (dotnet $dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning > /dev/null 2>&1 &)
    for k in $(seq 1 150); do sleep 0.2; curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8002/v2/health/ready 2>/dev/null | grep -q 200 && break; done
    [ $v != none ] && curl -s -o /dev/null http://127.0.0.1:8002/metrics
    wrk -t1 -c16 -d5s -s perf/wrk/post.lua http://127.0.0.1:8002/v2/models/ctr-ranker/infer > /dev/null
    echo "$v $i $(wrk -t1 -c16 -d10s -s perf/wrk/post.lua http://127.0.0.1:8002/v2/models/ctr-ranker/infer | grep '^wrk')"
    [ $v = bound ] && curl -s http://127.0.0.1:8002/metrics | grep -E '^lowlatency_engine_requests\{|^lowlatency_engine_request_duration_count' | head -3
  done
done
pkill -f LowLatency.Host.dll
