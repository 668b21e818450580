#!/bin/sh
# The probe's breakdown of every hand-off (docs/performance.md#waking-workers).
# Apply probe.patch to 9e7d251, build perf/EngineBench in Release, run from the repository root.
# PROBE_MODE=0: the wait as it is; 2: after the 10 us pause, yield only while a completion this
# worker queued has not started on the thread pool, else keep pause-spinning.
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
out=perf/results/wait-probe-$(date +%F); mkdir -p $out
for round in 1 2 3; do
  for mode in 0 2; do
    PROBE_MODE=$mode dotnet $B --only "ctr-ranker, 1" > $out/mode$mode-round$round.txt 2>&1
  done
done
