#!/bin/sh
d=$1; shift; n=$1; shift
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
mkdir -p $d
for r in $(seq 1 $n); do
  for spec in "$@"; do
    label=${spec%%:*}; envs=${spec#*:}
    env $envs dotnet $B --out $d/$label-$r.json > $d/$label-$r.txt 2>&1
  done
done
