# http-lib.sh: sourced by run3.sh and run4.sh on the device machine (from the repository root, the
# publish unpacked in /tmp/b/pub, LD_LIBRARY_PATH set): one fresh server per measurement on
# 127.0.0.1:8002 serving ctr-ranker, confined to the CPUs given, and loadgen against it on CPUs 8-15.
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
# http <cpus> <poll µs> <round>: c=1 (2 s warm-up + 6 s), c=16 (1 + 6 s), then the open loop at each
# of $RATES req/s (1 + 6 s), and the server's CPU seconds over all of it.
http() {
  taskset -c $1 env LowLatency__AnswerPollMicroseconds=$2 /tmp/b/pub/LowLatency.Host --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/tmp/srv.log 2>&1 &
  pid=$!; ready
  a=$(cpu_s)
  echo "http cpus=$1 poll=$2 r$3 c=1 $($LG --concurrency 1 --duration 6 --warmup 2 2>&1 | last)"
  echo "http cpus=$1 poll=$2 r$3 c=16 $($LG --concurrency 16 --duration 6 --warmup 1 2>&1 | last)"
  for rate in ${RATES:-500}; do
    echo "http cpus=$1 poll=$2 r$3 rate=$rate $($LG --rate $rate --duration 6 --warmup 1 2>&1 | last)"
  done
  b=$(cpu_s); echo "http cpus=$1 poll=$2 r$3 server_cpu_s $(python3 -c "print(round($b-$a,2))") $(el)"
  kill $pid; wait $pid 2>/dev/null
}
