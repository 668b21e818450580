#!/bin/bash
# NOT RUN: this session's second device call was refused (new loans paused). Kept, ready, for a session that is lent the machine (pack.sh first).
# Second device call: the measured wake lead (new) against the fixed 500 µs lead (old, the commit
# before it), interleaved, on the device machine's CPUs; plus repeats of the whole benchmark and two
# wait settings at saturation. pub.tar.xz is the new self-contained publish; old.tar holds the old
# build's enginebench.dll and LowLatency.Engine.dll, swapped into a copy of it. Run from the repository root.
exec > >(tee "$OUT/log.txt") 2>&1
echo "== machine"; date -u; uname -r; nproc; lscpu | grep -E "Model name|Hypervisor"; cat /proc/loadavg; head -1 /proc/stat
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
mkdir -p /tmp/b && (tar -xJf .dev/pub.tar.xz -C /tmp/b || python3 -c "import tarfile;tarfile.open('.dev/pub.tar.xz').extractall('/tmp/b')")
cp -a /tmp/b/pub /tmp/b/old && tar -xf .dev/old.tar -C /tmp/b/old && md5sum /tmp/b/pub/LowLatency.Engine.dll /tmp/b/old/LowLatency.Engine.dll
export LD_LIBRARY_PATH="$TL"
J=/tmp/json; mkdir -p $J
run() { # side label args...
  side=$1; label=$2; shift 2
  echo "== $label $side"
  timeout 90 $PRE /tmp/b/$side/enginebench "$@" 2>&1 | grep -E "^(identity|ctr-ranker), "
}
for r in 1 2 3 4 5; do
  for side in old pub; do run $side "balanced r$r" --only balanced; done
done
for r in 1 2 3; do
  for side in old pub; do run $side "whole all-CPUs r$r" --out $J/whole-all-$side-$r.json; done
done
for r in 1 2; do PRE="taskset -c 0,1" run pub "whole 2-CPUs r$r" --out $J/whole-2cpu-pub-$r.json; done
for r in 1 2; do
  run pub "saturation default r$r" --only saturation
  run pub "saturation spin-us-200 r$r" --only saturation --spin-us 200
  run pub "saturation wait-spin r$r" --only saturation --wait spin
done
tar -cf "$OUT/json.tar" -C $J .
head -1 /proc/stat; cat /proc/loadavg; date -u
