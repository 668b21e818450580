#!/bin/bash
# Device call 2 (2026-11-28, 6966b44): the server confined to 2 CPUs (taskset 0,1), the client (loadgen) on
# CPUs 8-15: answer polling off (0) and on (500 µs), 5 rounds, order alternating, one fresh server
# per round and side: c=1, c=16, open loop 500 and 2000 req/s. Run from the repository root.
# The HTTP helpers moved to http-lib.sh after the call (the same commands).
exec > >(tee "$OUT/log.txt") 2>&1
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s]"; }
echo "== machine"; date -u; nproc; cat /proc/loadavg; head -1 /proc/stat
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
mkdir -p /tmp/b && tar -xJf .dev/pub.tar.xz -C /tmp/b
export LD_LIBRARY_PATH="$TL"
RATES="500 2000"
source "$(dirname "$0")/http-lib.sh"
for r in 1 2 3 4 5; do
  polls="0 500"; [ $((r % 2)) = 0 ] && polls="500 0"
  for p in $polls; do http 0,1 $p $r; done
done
head -1 /proc/stat; cat /proc/loadavg; date -u; el
