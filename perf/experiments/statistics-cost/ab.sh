#!/bin/bash
# ab.sh <rounds>: the statistics extension's recording (new: one atomic add and one store a request,
# two atomic adds a batch, on top of the Prometheus series) against the build before it (old),
# through HTTP: one fresh server per round and arm, order rotated; wrk c=1 (4 s warm-up + 8 s), c=16
# (8 s), then loadgen's open loop at 500 req/s, and the server's CPU seconds over all of it.
# OLD_DLL: the host built at 2fe63bf (a git worktree). Client on the same 2 cores.
source "$(dirname "$0")/../common/lib.sh"
old_new "$1"
