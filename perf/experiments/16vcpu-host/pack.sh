#!/bin/sh
# How the device calls' luggage was made (the device machine has no .NET; its PyTorch 2.11 supplies
# libtorch, which TorchSharp 0.107's libLibTorchSharp.so, built for 2.10, loaded without a missing
# symbol). Run from the repository root; .dev/ is ignored (.git/info/exclude) and carried.
#   new: this commit's enginebench, server (LowLatency.Host) and loadgen, self-contained, published into
#        one folder with libtorch left out (114 MB, 35.5 MB as xz; the first call's enginebench alone: 461 MB
#        before libtorch was removed, 35 MB xz)
#   old: 8f5974c, the commit before the measured wake lead (OLD= to change), only its two changed assemblies
# Calls: run1.sh (2026-11-28, enginebench at 8f5974c), run3.sh and run4.sh (2026-11-28, at 6966b44). The tree that travels with them
# (tracked files ~10 MB, models included) plus .dev/ stays under the 64 MiB limit.
set -e
pub() { # <tree> <out>
  for p in perf/EngineBench host perf/LoadGen; do
    (cd "$1" && dotnet publish $p -c Release -r linux-x64 --self-contained -o "$2" -v q)
  done
  rm -f "$2"/libtorch*.so "$2"/libc10.so "$2"/libgomp-*.so.1 "$2"/libshm.so "$2"/lib*backend*.so "$2"/libaoti_custom_ops.so "$2"/libtorchbind_test.so
}
mkdir -p .dev /tmp/wk
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo '/.dev/' >> .git/info/exclude
pub . /tmp/wk/pub
tar -C /tmp/wk -cf - pub | xz -9 -T2 > .dev/pub.tar.xz
git worktree add /tmp/wk/oldtree "${OLD:-8f5974c}"
(cd /tmp/wk/oldtree && dotnet build perf/EngineBench -c Release -v q)
tar -C /tmp/wk/oldtree/perf/EngineBench/bin/Release/net10.0 -cf .dev/old.tar enginebench.dll LowLatency.Engine.dll
git worktree remove --force /tmp/wk/oldtree
# then: cp perf/experiments/16vcpu-host/{run3.sh,run4.sh,http-lib.sh} .dev/ and device run "bash .dev/run3.sh" carrying .dev
