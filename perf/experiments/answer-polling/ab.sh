#!/bin/sh
# ab.sh dir rounds: the whole engine benchmark with answer polling off (--answer-poll-us 0: every
# answer through the thread pool, the default) and on (--answer-poll-us 500), interleaved, one
# build; run from the repository root.
d=$1; n=$2; mkdir -p $d
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
for r in $(seq 1 $n); do
  dotnet $B --answer-poll-us 0 --out $d/off-$r.json > $d/off-$r.txt 2>&1
  dotnet $B --answer-poll-us 500 --out $d/on-$r.json > $d/on-$r.txt 2>&1
done
