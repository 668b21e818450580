#!/bin/sh
# http.sh rounds: wrk through the server, old (78591fe) and new, c=1 and c=16, interleaved.
# OLD_DLL: the other build's host/bin/Release/net10.0/LowLatency.Host.dll.
w=perf/experiments/common/wrkab.sh
for r in $(seq 1 $1); do
  for c in 1 16; do
    DLL=${OLD_DLL:?} $w old $c
    $w new $c
  done
done
