#!/usr/bin/env bash
# Over one gRPC connection, is image-classifier's throughput at c=64 held back by Kestrel's HTTP/2
# connection window? The server keeps each request's message in Kestrel's pipe until it is answered
# (zero copy), and Kestrel gives the window back only as a stream's data is consumed.
#   perf/experiments/grpc-window/ab.sh [rounds] [seconds] [windows...]
# Each round starts the server once per connection window (bytes; "default" leaves Kestrel's 1 MiB),
# in an order that rotates, and runs perf/LoadGen over gRPC (one channel) and, for reference, over
# HTTP MessagePack (64 connections), each followed by the mean rows per batch the engine ran in it,
# the load generator's 3 s warm-up included (lowlatency_engine_batch_size from /metrics). The window
# is Kestrel:Limits:Http2:InitialConnectionWindowSize; the server's first WINDOW_UPDATE is checked
# against it. Needs a Release build (dotnet build LowLatency.sln -c Release) and nghttp (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-3}
seconds=${2:-10}
shift $(( $# < 2 ? $# : 2 ))
if [ $# -eq 0 ]; then windows=(default 8388608); elif [ $# -ge 2 ]; then windows=("$@"); else
  echo "usage: $0 [rounds] [seconds] [window window ...] (two or more; default: default 8388608)" >&2; exit 2; fi
model=${MODEL:-image-classifier}
concurrency=${CONCURRENCY:-64}
out=${OUT:-perf/results/grpc-window-$(date -u +%F)-$(git rev-parse --short HEAD)}
mkdir -p "$out"
server=host/bin/Release/net10.0/LowLatency.Host.dll
loadgen=perf/LoadGen/bin/Release/net10.0/loadgen.dll
golden=models/$model/golden/batch1.json

rows() { # sum count of the model's batch sizes so far
  curl -s http://127.0.0.1:8002/metrics | awk -v m="model=\"$model\"" '$0 ~ m && /^lowlatency_engine_batch_size_sum/ {s=$2} $0 ~ m && /^lowlatency_engine_batch_size_count/ {c=$2} END {print s+0, c+0}'
}

mean() { # before after -> mean rows per batch between them
  awk -v b="$1" -v a="$2" 'BEGIN {split(b, x, " "); split(a, y, " "); n = y[2] - x[2]; printf "%.1f", (n > 0 ? (y[1] - x[1]) / n : 0)}'
}

pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null' EXIT

window_update() { # the increment of the gRPC listener's first connection-level WINDOW_UPDATE
  nghttp -nv http://127.0.0.1:8004/ 2>/dev/null | awk '/recv WINDOW_UPDATE/ && /stream_id=0/ {w=1; next} w && /window_size_increment=/ {sub(/.*window_size_increment=/, ""); sub(/[^0-9].*/, ""); print; exit}'
}

run() { # window round
  local w=$1 r=$2 set=()
  [ "$w" = default ] || set=("--Kestrel:Limits:Http2:InitialConnectionWindowSize=$w")
  dotnet "$server" --urls http://127.0.0.1:8002 --LowLatency:Grpc:Urls=http://127.0.0.1:8004 \
    --model-repository models --Logging:LogLevel:Default=Warning ${set[@]+"${set[@]}"} >/dev/null 2>&1 &
  pid=$!
  local ready=0
  for _ in $(seq 300); do curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && { ready=1; break; }; sleep 0.1; done
  [ $ready = 1 ] || { echo "the server did not become ready in 30 s" >&2; exit 1; }
  local expected=$(( ${w/default/1048576} - 65535 )) got
  got=$(window_update)
  [ "$got" = "$expected" ] || { echo "window $w: the server's WINDOW_UPDATE is ${got:-missing}, not $expected" >&2; exit 1; }
  local before after line
  before=$(rows)
  line=$(dotnet $loadgen --label "grpc-$w" --url http://127.0.0.1:8004 --golden $golden \
    --transport grpc --concurrency "$concurrency" --duration "$seconds" --warmup 3 --json "$out/grpc-$w-r$r.json" 2>/dev/null)
  after=$(rows)
  echo "round $r window $w grpc rows/batch $(mean "$before" "$after") $line" | tee -a "$out/runs.txt"
  before=$after
  line=$(dotnet $loadgen --label "http-$w" --url http://127.0.0.1:8002/v2/models/$model/infer --golden $golden \
    --concurrency "$concurrency" --duration "$seconds" --warmup 3 --json "$out/http-$w-r$r.json" 2>/dev/null)
  echo "round $r window $w http rows/batch $(mean "$before" "$(rows)") $line" | tee -a "$out/runs.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
}

for r in $(seq "$rounds"); do
  n=${#windows[@]}
  for i in $(seq 0 $((n - 1))); do run "${windows[$(( (i + r) % n ))]}" "$r"; done
done
