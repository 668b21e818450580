#!/usr/bin/env bash
# ab.sh <rounds> <old worktree>: the whole engine benchmark (`build.ps1 bench`'s run) of this tree's
# build and the old worktree's (both built: dotnet build perf/EngineBench -c Release), alternating
# which goes first each round; one line per scenario and run, prefixed "new rN" / "old rN".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
new=$PWD
for r in $(seq 1 "$1"); do
  if [ $((r % 2)) -eq 1 ]; then arms="new old"; else arms="old new"; fi
  for arm in $arms; do
    d=$new; [ "$arm" = old ] && d=$2
    (cd "$d" && dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --requests 20000 2>/dev/null \
      | grep -E '^(identity|ctr-ranker), .*overhead p50' | sed "s/^/$arm r$r /")
  done
done
