#!/bin/sh
# pool-spin-limit.sh <rounds> <limits...>: ctr-ranker low load alone with DOTNET_ThreadPool_UnfairSemaphoreSpinLimit varied (default 70), interleaved; run from the repository root
n=$1; shift
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
for r in $(seq 1 $n); do
  for l in "$@"; do
    /usr/bin/time -f "cpu %U user %S sys %e wall" env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=$l dotnet $B --only "ctr-ranker, 1" 2>&1 | grep -E "^ctr-ranker, 1|^cpu" | tr '\n' ' ' | sed "s/^/r$r limit $l: /"; echo
  done
done
