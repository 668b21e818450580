#!/bin/bash
# Device call 2 (session 12): the server confined to 2 CPUs (taskset 0,1), the client (loadgen) on
# CPUs 8-15: answer polling off (0) and on (500 µs), 5 rounds, order alternating, one fresh server
# per round and side: c=1, c=16, open loop 500 and 2000 req/s. Run from the repository root.
exec > >(tee "$OUT/log.txt") 2>&1
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s]"; }
echo "== machine"; date -u; nproc; cat /proc/loadavg; head -1 /proc/stat
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
mkdir -p /tmp/b && tar -xJf .dev/pub.tar.xz -C /tmp/b
export LD_LIBRARY_PATH="$TL"
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
LG="taskset -c 8-15 /tmp/b/pub/loadgen --url $URL --golden models/ctr-ranker/golden/batch1.json"
ready() { python3 - <<'PY'
import time, urllib.request
for i in range(150):
    try:
        urllib.request.urlopen("http://127.0.0.1:8002/v2/health/ready", timeout=1); break
    except Exception: time.sleep(0.2)
PY
}
cpu_s() { awk -v t=$(getconf CLK_TCK) '{print ($14 + $15) / t}' /proc/$pid/stat; }
last() { tr "\r" "\n" | grep -E "^run" | tail -1; }
http() { # <cpus> <poll µs> <round>
  taskset -c $1 env LowLatency__AnswerPollMicroseconds=$2 /tmp/b/pub/LowLatency.Host --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/tmp/srv.log 2>&1 &
  pid=$!; ready
  a=$(cpu_s)
  echo "http cpus=$1 poll=$2 r$3 c=1 $($LG --concurrency 1 --duration 6 --warmup 2 2>&1 | last)"
  echo "http cpus=$1 poll=$2 r$3 c=16 $($LG --concurrency 16 --duration 6 --warmup 1 2>&1 | last)"
  echo "http cpus=$1 poll=$2 r$3 rate=500 $($LG --rate 500 --duration 6 --warmup 1 2>&1 | last)"
  echo "http cpus=$1 poll=$2 r$3 rate=2000 $($LG --rate 2000 --duration 6 --warmup 1 2>&1 | last)"
  b=$(cpu_s); echo "http cpus=$1 poll=$2 r$3 server_cpu_s $(python3 -c "print(round($b-$a,2))") $(el)"
  kill $pid; wait $pid 2>/dev/null
}
for r in 1 2 3 4 5; do
  polls="0 500"; [ $((r % 2)) = 0 ] && polls="500 0"
  for p in $polls; do http 0,1 $p $r; done
done
head -1 /proc/stat; cat /proc/loadavg; date -u; el
