#!/bin/bash
# cpu.sh <rounds>: what answer polling costs in CPU, hill climbing off on both sides. One fresh
# server per round and side ("default": polling 500 µs, the default of a build of 2026-11-28 that
# was not kept; "off": 0), order alternating; after a 4 s wrk warm-up, the server's CPU seconds
# over 8 s of wrk c=1 and over loadgen's open loop at 500 req/s (2 s warm-up + 8 s), with each
# run's latency line.
source "$(dirname "$0")/../common/lib.sh"
for r in $(seq 1 "$1"); do
  sides="default off"; [ $((r % 2)) = 0 ] && sides="off default"
  for side in $sides; do
    arm=onhc; [ $side = off ] && arm=offhc
    start_server host/bin/Release/net10.0/LowLatency.Host.dll $(arm_env $arm)
    wrk_run 1 4 >/dev/null
    a=$(cpu_s); line=$(wrk_run 1 8); b=$(cpu_s)
    echo "$side c=1 cpu_s $(echo "$b - $a" | bc) $line"
    a=$(cpu_s); line=$(open_loop); b=$(cpu_s)
    echo "$side rate=500 cpu_s $(echo "$b - $a" | bc) $line"
    stop_server
  done
done
