#!/bin/sh
# four.sh dir rounds: the whole engine benchmark, answer polling off/on x hill climbing on/off, interleaved.
d=$1; n=$2; mkdir -p $d
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
for r in $(seq 1 $n); do
  DOTNET_HillClimbing_Disable=0 dotnet $B --answer-poll-us 0 --out $d/off-$r.json > $d/off-$r.txt 2>&1
  DOTNET_HillClimbing_Disable=0 dotnet $B --answer-poll-us 500 --out $d/on-$r.json > $d/on-$r.txt 2>&1
  DOTNET_HillClimbing_Disable=1 dotnet $B --answer-poll-us 0 --out $d/offhc-$r.json > $d/offhc-$r.txt 2>&1
  DOTNET_HillClimbing_Disable=1 dotnet $B --answer-poll-us 500 --out $d/onhc-$r.json > $d/onhc-$r.txt 2>&1
done
