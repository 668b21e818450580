#!/usr/bin/env bash
# Two builds of perf/StreamBench side by side on one redis-server: pairs of throughput runs, the
# old build then the new, so both see the same machine load. Prints the markdown rows, labelled.
#   perf/experiments/streams-ab/ab.sh OLD/streambench.dll NEW/streambench.dll [pairs] [events]
set -euo pipefail
old=$1 new=$2 pairs=${3:-3} events=${4:-2000000}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
redis=$!
trap 'kill $redis; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| build | views | events | keys | partitions | batch | appended/s | **processed/s** | s | CPU s, processor | CPU s, redis | checkpoints | rows written |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for ((i = 1; i <= pairs; i++)); do
  for build in old new; do
    dll=$old; [ "$build" = new ] && dll=$new
    redis-cli -p "$port" flushall >/dev/null
    echo "| $build $(dotnet "$dll" throughput --connection-string "127.0.0.1:$port" --views count-sum --events "$events")"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
