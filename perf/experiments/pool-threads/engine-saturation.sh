#!/bin/bash
# engine-saturation.sh <rounds>: identity saturation alone (enginebench --only), the thread pool as is, capped at 2 and 4 worker threads, and without hill climbing, interleaved; run from the repository root
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
for r in $(seq 1 $1); do
  for cfg in default DOTNET_ThreadPool_ForceMaxWorkerThreads=2 DOTNET_ThreadPool_ForceMaxWorkerThreads=4 DOTNET_HillClimbing_Disable=1; do
    e=""; [ $cfg != default ] && e=$cfg
    echo "$cfg $(env $e dotnet $B --only "identity, saturation" 2>&1 | grep "identity, saturation" | grep -o "[0-9]* req/s; overhead p50 [0-9]* us p99 [0-9]*")"
  done
done
