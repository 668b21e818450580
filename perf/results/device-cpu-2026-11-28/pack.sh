#!/bin/sh
# How the device calls' luggage was made (the device machine has no .NET; its PyTorch 2.11 supplies
# libtorch, which TorchSharp 0.107's libLibTorchSharp.so, built for 2.10, loaded without a missing
# symbol). Run from the repository root; .dev/ is ignored (.git/info/exclude) and carried.
#   new: this commit's enginebench, self-contained, libtorch left out (461 MB)
#   old: 8f5974c, the commit before the measured wake lead (OLD= to change), only its two changed assemblies
set -e
pub() { # <tree> <out>
  (cd "$1" && dotnet publish perf/EngineBench -c Release -r linux-x64 --self-contained -o "$2" -v q)
  rm -f "$2"/libtorch*.so "$2"/libc10.so "$2"/libgomp-*.so.1 "$2"/libshm.so "$2"/lib*backend*.so "$2"/libaoti_custom_ops.so "$2"/libtorchbind_test.so
}
mkdir -p .dev /tmp/wk
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo '/.dev/' >> .git/info/exclude
pub . /tmp/wk/pub
tar -C /tmp/wk -cf - pub | xz -9 -T2 > .dev/pub.tar.xz
git worktree add /tmp/wk/oldtree "${OLD:-8f5974c}"
pub /tmp/wk/oldtree /tmp/wk/pubold
tar -C /tmp/wk/pubold -cf .dev/old.tar enginebench.dll LowLatency.Engine.dll
# then: device run "bash .dev/run2.sh" carrying .dev (run1.sh: the first call, pub.tar.xz only)
