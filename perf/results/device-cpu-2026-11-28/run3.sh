#!/bin/bash
# Device call (session 12): the server over HTTP with the client on other CPUs, answer polling off/on,
# server confined to 2 CPUs and to 8; then the engine's saturation arms (default, hill climbing off,
# --spin-us 200, --wait spin), the lone balanced request old (8f5974c) vs new wake lead, one whole run.
# .dev/pub.tar.xz: enginebench, LowLatency.Host and loadgen published self-contained into one folder
# (libtorch left out: the machine's PyTorch 2.11 supplies it). Run from the repository root.
exec > >(tee "$OUT/log.txt") 2>&1
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s]"; }
echo "== machine"; date -u; uname -r; nproc; lscpu | grep -E "Model name|Hypervisor"; cat /proc/loadavg; head -1 /proc/stat
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
mkdir -p /tmp/b && tar -xJf .dev/pub.tar.xz -C /tmp/b && cp -a /tmp/b/pub /tmp/b/old && tar -xf .dev/old.tar -C /tmp/b/old
export LD_LIBRARY_PATH="$TL"
J=$OUT/json; mkdir -p $J; echo "unpacked $(el)"

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
  b=$(cpu_s); echo "http cpus=$1 poll=$2 r$3 server_cpu_s $(echo "$b - $a" | bc 2>/dev/null || python3 -c "print($b-$a)") $(el)"
  kill $pid; wait $pid 2>/dev/null
}
for r in 1 2; do
  for cpus in 0,1 0-7; do
    polls="0 500"; [ $r = 2 ] && polls="500 0"
    for p in $polls; do http $cpus $p $r; done
  done
done
tail -5 /tmp/srv.log

eb() { # <side> <label> [VAR=value] args...
  side=$1; label=$2; shift 2; envs=""; case $1 in *=*) envs=$1; shift;; esac
  echo "== $label $side $(el)"
  timeout 90 env $envs /tmp/b/$side/enginebench "$@" 2>&1 | grep -E "^(identity|ctr-ranker), |^thread pool"
}
arms=(default hcoff spin200 waitspin)
for r in 1 2 3; do
  for k in 0 1 2 3; do
    a=${arms[$(( (k + r - 1) % 4 ))]}
    case $a in
      default) eb pub "sat $a r$r" --only saturation;;
      hcoff) eb pub "sat $a r$r" DOTNET_HillClimbing_Disable=1 --only saturation;;
      spin200) eb pub "sat $a r$r" --only saturation --spin-us 200;;
      waitspin) eb pub "sat $a r$r" --only saturation --wait spin;;
    esac
  done
done
for r in 1 2 3; do
  sides="old pub"; [ $r = 2 ] && sides="pub old"
  for s in $sides; do eb $s "balanced r$r" --only balanced; done
done
eb pub "whole" --out $J/whole-all.json
head -1 /proc/stat; cat /proc/loadavg; date -u; el
