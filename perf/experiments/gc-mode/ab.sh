#!/bin/sh
# ab.sh rounds: wrk through the server (this tree's build), c=1 and c=16, three GC settings interleaved:
#   datas = the default (Server GC with dynamic adaptation, DATAS, on in .NET 10)
#   fixed = Server GC without DATAS (DOTNET_GCDynamicAdaptationMode=0: one heap per core)
#   wks   = workstation GC, concurrent (DOTNET_gcServer=0)
w=perf/experiments/common/wrkab.sh
for r in $(seq 1 $1); do
  for c in 1 16; do
    $w datas $c
    $w fixed $c DOTNET_GCDynamicAdaptationMode=0
    $w wks $c DOTNET_gcServer=0
  done
done
