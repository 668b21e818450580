#!/bin/bash
# ab.sh <rounds>: LowLatency:InlineScheduling off (as shipped) and on, the same build, one fresh server
# per round and side, order alternating: wrk c=1 (4 s warm-up + 8 s), then c=16 (8 s), then loadgen's
# open loop at 500 req/s (2 + 8 s), and the server's CPU seconds over all of it. Client on the same
# 2 cores (the reference VM has no others). The setting is not in the server: `git apply inline-scheduling.patch`
# and `dotnet build host -c Release` first (that is how these numbers were taken, at dda5c0e).
# Each server's measurement is lib.sh's measure_server since the runs (the same commands; smoke-tested
# through ../spin/http-ab.sh, not here, since this side needs the patch).
source "$(dirname "$0")/../common/lib.sh"
for r in $(seq 1 "$1"); do
  sides="off on"; [ $((r % 2)) = 0 ] && sides="on off"
  for side in $sides; do
    v=false; [ $side = on ] && v=true
    measure_server "$side r$r" LowLatency__InlineScheduling=$v
  done
done
