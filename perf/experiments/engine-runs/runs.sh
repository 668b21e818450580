#!/usr/bin/env bash
# The whole engine benchmark N times back to back at default settings, as `build.ps1 bench` runs it.
# Usage, from the repository root after `dotnet build -c Release perf/EngineBench`:
#   perf/experiments/engine-runs/runs.sh N [FIRST]   (runs FIRST … FIRST+N-1; FIRST defaults to 1)
# into $OUT, by default perf/results/engine-runs-<date>/ (the runs of 2026-12-02: perf/results/engine-2026-12-02/).
set -euo pipefail
dir=${OUT:-perf/results/engine-runs-$(date +%F)}
mkdir -p "$dir"
first=${2:-1}
for r in $(seq "$first" $((first + $1 - 1))); do
  dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --requests 20000 --out "$dir/run$r.json" > "$dir/run$r.txt" 2>&1
done
