#!/bin/bash
# ab.sh <rounds>: this session's host (new: binary tensor data, statistics, the Content-Encoding
# check, all on the MessagePack request path as header reads and one atomic add) against the host
# at the session's start (old, 25a21c9), through HTTP: one fresh server per round and arm, order
# rotated; wrk c=1 (4 s warm-up + 8 s), c=16 (8 s), then loadgen's open loop at 500 req/s, and the
# server's CPU seconds over all of it. OLD_DLL: the host built at 25a21c9 (a git worktree).
source "$(dirname "$0")/../polling-hillclimbing-2026-11-28/lib.sh"
old_new "$1"
