#!/usr/bin/env bash
# arms.sh <rounds> <new dll> <old dll>: per round, the arms in rotated order, each on fresh servers:
# its memory after a burst (burst.sh: 16 bodies of 64 MiB and 4 JSON requests with a 60 MiB id at
# once, under 300 req/s of ordinary requests) and its speed (loadgen, ctr-ranker MessagePack closed
# loop: c=16 for 5 s after a 5 s warm-up run, then c=1 for 5 s). Arms:
#   base      the old dll (Kestrel's pool, no trim; Server GC without DATAS)
#   fixed     the new dll as configured (bounded pool, trim; Server GC without DATAS)
#   datas     the new dll with DATAS (DOTNET_GCDynamicAdaptationMode=1)
#   wks       the new dll with workstation GC, concurrent (DOTNET_gcServer=0)
#   conserve  the new dll with DOTNET_GCConserveMemory=5
#   notrim    the new dll without the trim (--LowLatency:TrimAfterBurstBytes=0)
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
rounds=$1; new=$2; old=$3
LG=perf/LoadGen/bin/Release/net10.0/loadgen.dll
arms=(base fixed datas wks conserve notrim)
setup() {
  dll=$new; env=(X=1); args=""
  case $1 in
    base) dll=$old;;
    datas) env=(DOTNET_GCDynamicAdaptationMode=1);;
    wks) env=(DOTNET_gcServer=0);;
    conserve) env=(DOTNET_GCConserveMemory=5);;
    notrim) args="--LowLatency:TrimAfterBurstBytes=0";;
  esac
}
speed() {
  env "${env[@]}" dotnet $dll --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning $args >/dev/null 2>&1 &
  local pid=$!
  for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
  local run="dotnet $LG --url http://127.0.0.1:8002/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --duration 5 --warmup 2"
  $run --concurrency 16 >/dev/null 2>&1
  echo "$1 r$2 speed $($run --concurrency 16 2>/dev/null | head -1)"
  echo "$1 r$2 speed $($run --concurrency 1 2>/dev/null | head -1)"
  echo "$1 r$2 rss-after-speed $(awk '/^VmRSS/ {print int($2/1024)}' /proc/$pid/status) MiB"
  kill $pid; wait $pid 2>/dev/null; sleep 0.5
}
for r in $(seq 1 $rounds); do
  k=$(( (r - 1) % ${#arms[@]} ))
  for arm in "${arms[@]:$k}" "${arms[@]:0:$k}"; do
    setup $arm
    SERVER_ARGS="$args" perf/experiments/burst-memory/burst.sh $arm-r$r $dll "${env[@]}"
    speed $arm $r
  done
done
