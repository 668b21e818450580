#!/bin/sh
# engine-ab.sh dir rounds: the whole engine benchmark with the worker's spin before parking at 50 µs (as
# shipped) and 300 µs, same build, interleaved, order alternating by round. Run from the repository root.
# Summary: python3 perf/experiments/hill-climbing/four-summary.py <dir> spin50,spin300
d=$1; n=$2; mkdir -p $d
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
for r in $(seq 1 $n); do
  arms="50 300"; [ $((r % 2)) = 0 ] && arms="300 50"
  for s in $arms; do
    dotnet $B --spin-us $s --out $d/spin$s-$r.json > $d/spin$s-$r.txt 2>&1
  done
done
