#!/bin/sh
# whole.sh <rounds> <dir>: the whole engine benchmark, old and new, interleaved; run from the repository root
# old: 8f5974c, the commit before the measured wake lead, built in a worktree:
#   git worktree add /tmp/wk/oldtree 8f5974c && (cd /tmp/wk/oldtree && dotnet build -c Release perf/EngineBench)
# new: this checkout's perf/EngineBench Release build. The balanced-decay16-both-parks and
# balanced-decay64-both-parks files came from two earlier versions of the change (docs/performance.md#wake-lead).
n=$1; d=$2; mkdir -p $d
for r in $(seq 1 $n); do
  dotnet /tmp/wk/oldtree/perf/EngineBench/bin/Release/net10.0/enginebench.dll --out $d/old-$r.json > $d/old-$r.txt 2>&1
  dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --out $d/new-$r.json > $d/new-$r.txt 2>&1
done
