#!/usr/bin/env bash
# Feature reads at concurrency 1 against the embedded Garnet and a redis-server started here on a
# free loopback port (no persistence), stopped at the end. From the repository root:
#   perf/experiments/feature-reads/run.sh [--reads N] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/../../.."
dotnet build perf/experiments/feature-reads -c Release -v q -nologo >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
dotnet perf/experiments/feature-reads/bin/Release/net10.0/FeatureReads.dll --redis "127.0.0.1:$port" "$@"
