#!/bin/bash
# http.sh <rounds>: ctr-ranker through HTTP (lib.sh: wrk c=1 and c=16, loadgen open loop at 500 req/s,
# server CPU), as shipped ("def") against its device workers alone on core 1 ("iso": WorkerCores=1,
# every other thread of the server moved to core 0 with taskset once it is ready), one fresh server
# per round and arm, order rotated. wrk and loadgen run on both cores: the reference VM has no others.
# (Run on 2026-11-28 at 3df5a56, before WorkerCores accepted a core outside the process mask, hence the move
# after start; it leaves the runtime counting 2 cores, as DOTNET_PROCESSOR_COUNT=2 does.)
source "$(dirname "$0")/../common/lib.sh"
isolate() { for t in /proc/$pid/task/*; do case "$(cat $t/comm)" in ll-w*) ;; *) taskset -p -c 0 ${t##*/} >/dev/null;; esac; done; }
measure_iso() {
  local label=$1
  start_server host/bin/Release/net10.0/LowLatency.Host.dll LowLatency__WorkerCores__0=1
  isolate
  local a=$(cpu_s)
  phases "$label"
  echo "$label rate=500 $(open_loop)"
  local b=$(cpu_s); echo "$label cpu_s $(echo "$b - $a" | bc)"
  echo "$label off-core-1 $(for t in /proc/$pid/task/*; do echo "$(cat $t/comm):$(grep Cpus_allowed_list $t/status | awk '{print $2}')"; done | grep -v ':0$' | tr '\n' ' ')"
  stop_server
}
for r in $(seq 1 "$1"); do
  for arm in $(rotated $r def iso); do
    if [ $arm = def ]; then measure_server "def r$r" LowLatency__SpinMicroseconds=50
    else measure_iso "iso r$r"; fi
  done
done
