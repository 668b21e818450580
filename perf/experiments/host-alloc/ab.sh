#!/bin/sh
# ab.sh rounds: wrk through the server, c=1 and c=16, three builds interleaved:
#   old  = 68c52e0 (OLD_DLL: a worktree's host/bin/Release/net10.0/LowLatency.Host.dll)
#   log  = the same build with Microsoft.AspNetCore.Hosting.Diagnostics off (what e5cafcc ships)
#   new  = this tree (761db03: that, plus one async method and no request service scope)
w=perf/experiments/common/wrkab.sh
for r in $(seq 1 $1); do
  for c in 1 16; do
    DLL=${OLD_DLL:?} $w old $c
    DLL=$OLD_DLL $w log $c Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=None
    $w new $c
  done
done
