#!/bin/bash
# ab.sh <rounds>: the statistics extension's recording (new: one atomic add and one store a request,
# two atomic adds a batch, on top of the Prometheus series) against the build before it (old),
# through HTTP: one fresh server per round and arm, order rotated; wrk c=1 (4 s warm-up + 8 s), c=16
# (8 s), then loadgen's open loop at 500 req/s, and the server's CPU seconds over all of it.
# OLD_DLL: the host built at 2fe63bf (a git worktree). Client on the same 2 cores.
source "$(dirname "$0")/../polling-hillclimbing-2026-11-28/lib.sh"
: "${OLD_DLL:?set OLD_DLL to the old build of LowLatency.Host.dll}"
NEW_DLL=host/bin/Release/net10.0/LowLatency.Host.dll
for r in $(seq 1 "$1"); do
  for arm in $(rotated $r old new); do
    dll=$OLD_DLL; [ $arm = new ] && dll=$NEW_DLL
    start_server $dll
    a=$(cpu_s)
    phases "$arm r$r"
    echo "$arm r$r rate=500 $(open_loop)"
    b=$(cpu_s); echo "$arm r$r cpu_s $(echo "$b - $a" | bc)"
    stop_server
  done
done
