#!/bin/bash
# cpu.sh <rounds>: what the worker's spin before parking (LowLatency:SpinMicroseconds) costs at light
# steady load, which http-ab.sh's runs of 2026-11-28 did not measure apart: ctr-ranker,
# loadgen's open loop at a constant 500, then 2,000 req/s (2 s warm-up + 8 s each), the server's CPU
# seconds over each and its device worker's (ll-w0.ctr-ranker) among them, 50 (as shipped) against
# 300 µs, one fresh server per round and arm, order rotated. (cpu5.txt: the first version, 500 req/s
# only, without the worker's own CPU.)
source "$(dirname "$0")/../common/lib.sh"
worker_s() { for t in /proc/$pid/task/*; do case "$(cat $t/comm)" in ll-w0.ctr-ranke) awk -v t=$(getconf CLK_TCK) '{print ($14 + $15) / t}' $t/stat;; esac; done; }
for r in $(seq 1 "$1"); do
  for spin in $(rotated $r 50 300); do
    start_server host/bin/Release/net10.0/LowLatency.Host.dll LowLatency__SpinMicroseconds=$spin
    wrk_run 1 2 >/dev/null
    for rate in 500 2000; do
      a=$(cpu_s); wa=$(worker_s)
      line=$(dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url $URL --golden $GOLDEN --rate $rate --duration 8 --warmup 2 2>&1 | tr "\r" "\n" | grep -o "run.rate=.*" | tail -1)
      b=$(cpu_s); wb=$(worker_s)
      echo "spin$spin r$r rate=$rate cpu_s $(echo "$b - $a" | bc) worker_s $(echo "$wb - $wa" | bc) $line"
    done
    stop_server
  done
done
