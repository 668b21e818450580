#!/bin/sh
# ab.sh <rounds> <only>: one scenario (--only), old against new, interleaved; run from the repository root.
# old: 8f5974c, the commit before the measured wake lead, built in a worktree:
#   git worktree add /tmp/wk/oldtree 8f5974c && (cd /tmp/wk/oldtree && dotnet build -c Release perf/EngineBench)
# new: this checkout's perf/EngineBench Release build. The balanced-decay16-both-parks and
# balanced-decay64-both-parks files came from two earlier versions of the change (docs/performance.md#wake-lead).
n=$1; only=$2
for r in $(seq 1 $n); do
  for side in old new; do
    if [ $side = old ]; then B=/tmp/wk/oldtree/perf/EngineBench/bin/Release/net10.0/enginebench.dll; else B=perf/EngineBench/bin/Release/net10.0/enginebench.dll; fi
    dotnet $B --only "$only" 2>&1 | grep -E "^(identity|ctr)" | sed "s/^/r$r $side: /" | sed -E 's/submit->complete.*batches;//; s/\(all threads.*//; s/ 0 answered to a polling submitter;//'
  done
done
