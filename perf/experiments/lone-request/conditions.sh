#!/bin/bash
# usage: perf/experiments/lone-request/conditions.sh [rounds=3] [seconds=2] [models="text-encoder image-classifier"]
# The forward alone (forward.cs, batch 1, one thread) under the conditions a lone request meets in the
# server, to find what makes its `compute` exceed the tight loop: tight (as models.sh times it);
# EVICT_KB=4096 (4 MiB of other memory touched between calls, more than this core's 1 MiB L2);
# IDLE_MS=1 (the thread sleeps between calls, as a device thread parks between lone requests);
# busy (a spinning process on the other core). Rounds interleave the conditions; medians of the rounds' p50.
set -e
cd "$(dirname "$0")/../../.."
rounds=${1:-3}; secs=${2:-2}; models=${3:-"text-encoder image-classifier"}
here=perf/experiments/lone-request
dotnet build $here/forward.cs -c Release >/dev/null 2>&1 || true
run() { env $2 dotnet run $here/forward.cs -c Release -- models/$1/1/model.pt $secs 2>&1 | tail -1 | awk '{print $3}'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) commit $(git rev-parse --short HEAD)"
for m in $models; do
  declare -A all=()
  for r in $(seq 1 $rounds); do
    all[tight]+=" $(run $m X=0)"
    all[evict]+=" $(run $m EVICT_KB=4096)"
    all[idle]+=" $(run $m IDLE_MS=1)"
    sh -c 'while :; do :; done' & burner=$!
    all[busy]+=" $(run $m X=0)"
    kill $burner
    echo "$m round $r: tight ${all[tight]##* } evict ${all[evict]##* } idle ${all[idle]##* } busy ${all[busy]##* } load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  for c in tight evict idle busy; do echo "$m $c p50 $(echo ${all[$c]} | median) rounds${all[$c]}"; done
  unset all
done
echo "end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
