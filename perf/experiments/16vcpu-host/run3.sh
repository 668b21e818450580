#!/bin/bash
# Device call (2026-11-28, 6966b44): the server over HTTP with the client on other CPUs, answer polling off/on,
# server confined to 2 CPUs and to 8; then the engine's saturation arms (default, hill climbing off,
# --spin-us 200, --wait spin), the lone balanced request old (8f5974c) vs new wake lead, one whole run.
# .dev/pub.tar.xz: enginebench, LowLatency.Host and loadgen published self-contained into one folder
# (libtorch left out: the machine's PyTorch 2.11 supplies it). Run from the repository root.
# The HTTP helpers moved to http-lib.sh after the call (same commands; the server CPU seconds were
# computed with bc then, rounded now).
exec > >(tee "$OUT/log.txt") 2>&1
t0=$(date +%s); el() { echo "[$(( $(date +%s) - t0 )) s]"; }
echo "== machine"; date -u; uname -r; nproc; lscpu | grep -E "Model name|Hypervisor"; cat /proc/loadavg; head -1 /proc/stat
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
mkdir -p /tmp/b && tar -xJf .dev/pub.tar.xz -C /tmp/b && cp -a /tmp/b/pub /tmp/b/old && tar -xf .dev/old.tar -C /tmp/b/old
export LD_LIBRARY_PATH="$TL"
J=$OUT/json; mkdir -p $J; echo "unpacked $(el)"

RATES="500"
source "$(dirname "$0")/http-lib.sh"
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
