#!/bin/bash
# openloop.sh <rounds>: the server as shipped (hill climbing on), answer polling on (500 µs) and off
# (the default), one fresh server per round and side, order alternating: loadgen's open loop at
# 500 req/s (2 s warm-up + 8 s), after a 4 s wrk c=1 warm-up, and the server's CPU seconds over it.
source "$(dirname "$0")/../common/lib.sh"
for r in $(seq 1 "$1"); do
  sides="on off"; [ $((r % 2)) = 0 ] && sides="off on"
  for side in $sides; do
    start_server host/bin/Release/net10.0/LowLatency.Host.dll $(arm_env $side)
    wrk_run 1 4 >/dev/null
    a=$(cpu_s); line=$(open_loop); b=$(cpu_s)
    echo "$side rate=500 cpu_s $(echo "$b - $a" | bc) $line"
    stop_server
  done
done
