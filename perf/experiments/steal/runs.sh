#!/usr/bin/env bash
# ctr-ranker's low-load scenario alone, N runs back to back at the default settings: its overhead p99
# against the host's steal time during it (enginebench's last field). Usage, from the repository
# root after a Release build: perf/experiments/steal/runs.sh N > out.txt
set -euo pipefail
for r in $(seq 1 "$1"); do
  echo "r$r $(dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --requests 20000 --only 'ctr-ranker, 1' 2>&1 | grep '^ctr-ranker, 1 producer')"
done
