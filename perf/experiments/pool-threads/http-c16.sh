#!/bin/bash
# http-c16.sh: wrk c=16 against a fresh server per run, the thread pool as is and capped at 2 worker
# threads (the core count), 5 interleaved rounds; run from the repository root after
# `dotnet build -c Release host` and the LoadGen build (perf/experiments/common/wrkab.sh).
for r in 1 2 3 4 5; do
  perf/experiments/common/wrkab.sh default 16 X=1
  perf/experiments/common/wrkab.sh max2 16 DOTNET_ThreadPool_ForceMaxWorkerThreads=2
done
