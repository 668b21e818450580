#!/bin/sh
# ab3.sh dir rounds ; variants: old (fc9b6fc default), new (default), rt (new, --rt-priority 1)
d=$1; n=$2; mkdir -p $d
NEW=${NEW:-perf/EngineBench/bin/Release/net10.0/enginebench.dll}
OLD=${OLD:?the other build: a worktree at fc9b6fc, its perf/EngineBench/bin/Release/net10.0/enginebench.dll}
for r in $(seq 1 $n); do
  dotnet $OLD --out $d/old-$r.json > $d/old-$r.txt 2>&1
  dotnet $NEW --out $d/new-$r.json > $d/new-$r.txt 2>&1
  dotnet $NEW --rt-priority 1 --out $d/rt-$r.json > $d/rt-$r.txt 2>&1
done
