#!/bin/bash
# Engine benchmark on the device machine's CPUs: a self-contained publish of enginebench (no libtorch
# in it: 461 MB) run against the libtorch of the machine's PyTorch. Run from the repository root.
exec > >(tee "$OUT/log.txt") 2>&1
R=$(pwd)
echo "== machine"; date -u; uname -r; nproc; lscpu | grep -E "Model name|^CPU\(s\)|Thread\(s\)|Socket|NUMA node\(s\)|Hypervisor"
cat /sys/devices/system/cpu/cpuidle/current_driver 2>&1; cat /proc/loadavg; head -1 /proc/stat
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
python3 -c "import torch;print('torch', torch.__version__)"; ls "$TL" | head -40
mkdir -p /tmp/b && (tar -xJf .dev/pub.tar.xz -C /tmp/b || python3 -c "import tarfile;tarfile.open('.dev/pub.tar.xz').extractall('/tmp/b')")
P=/tmp/b/pub; ls $P | wc -l
echo "== libLibTorchSharp (built for libtorch 2.10) against this libtorch: undefined symbols not found"
if command -v nm >/dev/null; then
  nm -D --undefined-only $P/libLibTorchSharp.so | awk '{print $NF}' | grep -v '@' | sort -u > /tmp/und
  for l in libtorch_cpu.so libtorch.so libc10.so; do nm -D --defined-only "$TL/$l" | awk '{print $NF}'; done | sort -u > /tmp/def
  comm -23 /tmp/und /tmp/def > /tmp/missing; wc -l < /tmp/und; wc -l < /tmp/missing; head -30 /tmp/missing | c++filt
else echo "no nm"; fi
export LD_LIBRARY_PATH="$TL"
B="$P/enginebench"
echo "== whole benchmark, all $(nproc) CPUs"
timeout 120 $B --out "$OUT/whole-all.json" || { echo "enginebench failed: $?"; exit 1; }
echo "== whole benchmark, taskset -c 0,1"
timeout 120 taskset -c 0,1 $B --out "$OUT/whole-2cpu.json"
for r in 1 2 3 4 5; do
  for cpus in all 2; do
    pre=""; [ $cpus = 2 ] && pre="taskset -c 0,1"
    for poll in 0 500; do
      echo "== round $r cpus $cpus answer-poll-us $poll"
      timeout 40 $pre $B --only "ctr-ranker, 1" --answer-poll-us $poll | grep "ctr-ranker, 1"
    done
  done
done
head -1 /proc/stat; cat /proc/loadavg; date -u
