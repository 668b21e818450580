#!/bin/bash
# intra.sh <rounds> <old host dll> [arms]: the image classifier at c=1 (loadgen, 2 s warm-up + 8 s), one
# fresh server per round and arm, order rotated, with IntraOpThreads=2:
#   old      WorkerCores=0,1 on the build before each worker took IntraOpThreads cores (<old host dll>,
#            a worktree at 459ccf7): every worker pinned to core 0, its second intra-op thread with it
#   new      WorkerCores=0,1 on this build: each worker on cores 0 and 1
#   unpinned no WorkerCores, this build
#   one      IntraOpThreads=1 (the default), no WorkerCores, this build
# Prints loadgen's summary line (client latency, and the server's Server-Timing breakdown).
cd "$(dirname "$0")/../../.."
source perf/experiments/common/lib.sh
URL=http://127.0.0.1:8002/v2/models/image-classifier/infer
GOLDEN=models/image-classifier/golden/batch1.json
NEW=host/bin/Release/net10.0/LowLatency.Host.dll
for r in $(seq 1 "$1"); do
  for arm in $(rotated $r ${3:-old new unpinned}); do
    case $arm in
      old) start_server "$2" LowLatency__IntraOpThreads=2 LowLatency__WorkerCores__0=0 LowLatency__WorkerCores__1=1 ;;
      new) start_server $NEW LowLatency__IntraOpThreads=2 LowLatency__WorkerCores__0=0 LowLatency__WorkerCores__1=1 ;;
      unpinned) start_server $NEW LowLatency__IntraOpThreads=2 ;;
      one) start_server $NEW LowLatency__IntraOpThreads=1 ;;
    esac
    echo "$arm r$r $(dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url $URL --golden $GOLDEN --concurrency 1 --duration 8 --warmup 2 2>&1 | tr "\r" "\n" | grep -o "^run.c=1.*" | tail -1)"
    echo "$arm r$r threads $(for t in /proc/$pid/task/*; do n=$(cat $t/comm); case $n in ll-w0.image*) echo "$n:$(grep Cpus_allowed_list $t/status | awk '{print $2}')";; esac; done | tr '\n' ' ')"
    stop_server
  done
done
