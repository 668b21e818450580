#!/bin/bash
# The gateway's own cost for a local alias: one server whose repository holds ctr-ranker and an alias
# "rank" with ctr-ranker as its only backend; the load generator (MessagePack, closed loop, c=1, the
# batch1 golden) calls the alias and the model directly, alternating, each round in both orders.
# Usage: perf/experiments/gateway-cost/run.sh [rounds=4] [seconds=6]   (after dotnet pwsh build.ps1 build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-4}; seconds=${2:-6}
repo=$(mktemp -d)
mkdir -p "$repo/ctr-ranker/1"
cp models/ctr-ranker/config.json "$repo/ctr-ranker/"
cp models/ctr-ranker/1/model.pt "$repo/ctr-ranker/1/"
echo '{"aliases": {"rank": {"backends": [{"model": "ctr-ranker", "weight": 1}]}}}' > "$repo/aliases.json"
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --model-repository "$repo" --urls http://127.0.0.1:8150 \
  --grpc-urls http://127.0.0.1:8151 --Logging:LogLevel:Default=Warning > "$repo/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$repo"' EXIT
for i in $(seq 1 100); do curl -sf localhost:8150/v2/health/ready > /dev/null && break; sleep 0.3; done
run() {
  dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url "http://127.0.0.1:8150/v2/models/$1/infer" \
    --concurrency 1 --duration "$seconds" --warmup 2 --label "$1" 2>/dev/null | tr '\r' '\n' | grep -a $'^'"$1"$'\t' | tail -1 | cut -f1,3-6,10-
}
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then run ctr-ranker; run rank; else run rank; run ctr-ranker; fi
done
