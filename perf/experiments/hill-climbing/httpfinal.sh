#!/bin/bash
# httpfinal.sh <rounds> <old worktree>: the server of an older build (3dc6219 here, default
# settings) against this checkout's with answer polling on and hill climbing off ("new": the
# defaults of a build of 2026-11-28 that was not kept), one fresh server per round and side, the
# order alternating; wrk c=1 (4 s warm-up + 8 s), then c=16 (8 s) in the same process. Both serve
# this checkout's models/.
oldtree=${2:?usage: httpfinal.sh <rounds> <old worktree>}
oldtree=$(realpath "$oldtree")
source "$(dirname "$0")/../common/lib.sh"
for r in $(seq 1 "$1"); do
  sides="old new"; [ $((r % 2)) = 0 ] && sides="new old"
  for side in $sides; do
    if [ $side = old ]; then start_server $oldtree/host/bin/Release/net10.0/LowLatency.Host.dll
    else start_server host/bin/Release/net10.0/LowLatency.Host.dll $(arm_env new); fi
    phases $side
    stop_server
  done
done
