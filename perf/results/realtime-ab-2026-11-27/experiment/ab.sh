#!/bin/sh
# usage: ab.sh dir rounds "labelA:ENV" "labelB:ENV" ...
d=$1; shift; n=$1; shift
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
mkdir -p $d
for r in $(seq 1 $n); do
  for spec in "$@"; do
    label=${spec%%:*}; rest=${spec#*:}; envs=${rest%%:*}; args=${rest#*:}; [ "$args" = "$rest" ] && args=""
    env $envs dotnet $B --only ctr-ranker $args --out $d/$label-$r.json > $d/$label-$r.txt 2>&1
  done
done
for spec in "$@"; do
  label=${spec%%:*}
  printf "%s low:" $label; for r in $(seq 1 $n); do grep "1 producer" $d/$label-$r.txt | sed 's/.*overhead p50 \([0-9.]*\) us p99 \([0-9.]*\) us.*/ \1\/\2/' | tr -d '\n'; done
  printf "   sat:"; for r in $(seq 1 $n); do grep "saturation" $d/$label-$r.txt | sed 's/.*overhead p50 \([0-9.]*\) us p99 \([0-9.]*\) us.*/ \1\/\2/' | tr -d '\n'; done
  echo
done
