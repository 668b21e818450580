#!/bin/bash
cd /work/main
export WRK_BODY=/tmp/ctr.msgpack WRK_TYPE=application/msgpack
for i in 1 2 3; do
  for v in adapter bound none; do
    case $v in adapter) dll=/tmp/basehost/LowLatency.Host.dll  # 341e50e built with -o /tmp/basehost;; bound) dll=host/bin/Release/net10.0/LowLatency.Host.dll;; none) dll=/tmp/nometrics/LowLatency.Host.dll  # 341e50e with MetricsEndpoint.Map commented out;; esac
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
