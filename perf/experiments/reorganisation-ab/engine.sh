#!/usr/bin/env bash
# engine.sh <rounds> <old worktree>: the engine benchmark's saturation scenarios, this tree's build
# and the old worktree's (both built: dotnet build perf/EngineBench -c Release), alternately.
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
new=$PWD
for r in $(seq 1 "$1"); do
  for arm in new old; do
    d=$new; [ $arm = old ] && d=$2
    (cd "$d" && dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --only saturation --requests 20000 2>/dev/null \
      | grep -E '^(identity|ctr-ranker), saturation' | sed "s/^/$arm r$r /")
  done
done
