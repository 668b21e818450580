#!/bin/bash
# ab.sh <rounds>: MessagePack answers with a Content-Length (new) against chunked framing (old),
# through HTTP: one fresh server per round and arm, order rotated; wrk c=1 (4 s warm-up + 8 s), c=16
# (8 s), then loadgen's open loop at 500 req/s, and the server's CPU seconds over all of it (lib.sh).
# OLD_DLL: the host built at the commit before (a git worktree). Client on the same 2 cores.
source "$(dirname "$0")/../common/lib.sh"
old_new "$1"
