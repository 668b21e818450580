#!/bin/sh
# order.sh dir rounds: ctr-ranker low load with answer polling on, after different earlier scenarios.
d=$1; n=$2; mkdir -p $d
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
for r in $(seq 1 $n); do
  dotnet $B --answer-poll-us 500 --only "ctr-ranker, 1" > $d/alone-$r.txt 2>&1
  dotnet $B --answer-poll-us 500 --only "balanced|ctr-ranker, 1" > $d/balanced-$r.txt 2>&1
  dotnet $B --answer-poll-us 500 --only "identity, saturation|ctr-ranker, 1" > $d/idsat-$r.txt 2>&1
  dotnet $B --answer-poll-us 500 --only "identity, 1 producer, r|identity, 1 producer, d|ctr-ranker, 1" > $d/idlow-$r.txt 2>&1
done
