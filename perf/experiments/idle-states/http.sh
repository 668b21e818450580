#!/usr/bin/env bash
# Through HTTP: loadgen c=1 against one running server (ctr-ranker, MessagePack), guest halt polling
# off (as booted) and at 200 us alternately, order rotated, ROUNDS rounds of 6 s (1 s warm-up); the
# client's latency and the server's Server-Timing overhead. Root; from the repository root, after a
# Release build. Usage: perf/experiments/idle-states/http.sh ROUNDS > out.txt
set -euo pipefail
param=/sys/module/haltpoll/parameters/guest_halt_poll_ns
orig=$(cat $param)
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
pid=$!
trap 'echo "$orig" > $param; kill $pid' EXIT
for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
run() { dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url http://127.0.0.1:8002/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json --concurrency 1 --duration 5 --warmup 1 2>&1 | tr "\r" "\n" | grep "req/s" | tail -1; }
for r in $(seq 1 "$1"); do
  arms="halt poll"; [ $((r % 2)) -eq 0 ] && arms="poll halt"
  for arm in $arms; do
    if [ $arm = poll ]; then echo 200000 > $param; else echo 0 > $param; fi
    echo "$arm r$r $(run)"
  done
done
