#!/bin/bash
# final.sh <dir> <rounds> <old worktree>: the whole engine benchmark with default settings, an older
# build (3dc6219 here: hill climbing on, answer polling off) against this checkout, interleaved, the
# order alternating per round. Run from the repository root after building perf/EngineBench in
# Release in both (git worktree add <old worktree> 3dc6219).
# "new" was a build of 2026-11-28 that was not kept: answer polling on by default (500 us) and
# hill climbing off in the host's and enginebench's runtimeconfig. The current build gets the same
# from the settings below.
d=$(realpath -m "$1"); n=$2; oldtree=$3; mkdir -p "$d"
old() { (cd "$oldtree" && dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --out "$d/old-$1.json" > "$d/old-$1.txt" 2>&1); }
new() { DOTNET_HillClimbing_Disable=1 dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --answer-poll-us 500 --out "$d/new-$1.json" > "$d/new-$1.txt" 2>&1; }
for r in $(seq 1 "$n"); do
  if [ $((r % 2)) = 1 ]; then old $r; new $r; else new $r; old $r; fi
done
