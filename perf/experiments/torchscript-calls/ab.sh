#!/bin/sh
# ab.sh dir rounds: the whole engine benchmark, old (78591fe, TorchSharp's ScriptModule.call) and
# new (LibTorchSharp's entry points, bare handles), interleaved, run from the repository root.
d=$1; n=$2; mkdir -p $d
NEW=${NEW:-perf/EngineBench/bin/Release/net10.0/enginebench.dll}
OLD=${OLD:?the other build: a worktree at 78591fe, its perf/EngineBench/bin/Release/net10.0/enginebench.dll}
for r in $(seq 1 $n); do
  dotnet $OLD --out $d/old-$r.json > $d/old-$r.txt 2>&1
  dotnet $NEW --out $d/new-$r.json > $d/new-$r.txt 2>&1
done
