#!/usr/bin/env bash
# A model's batch1 golden request (ctr-ranker unless MODEL is given) through HTTP in the three
# request encodings the server speaks: MessagePack, JSON, and JSON followed by binary tensors
# (Triton's binary tensor data, outputs asked for as bytes too).
# One Release server; N rounds, the encodings' order rotating each round; loadgen closed loop at c=1
# and c=16, 5 s after 2 s of warm-up; the host's steal over each run appended.
# Usage, from the repository root after Release builds of host/ and perf/LoadGen:
#   perf/experiments/encodings/ab.sh N [MODEL] > runs[-MODEL].txt
# (runs.txt is ctr-ranker's; CONCURRENCY="1" runs c=1 alone.) Each run's JSON goes to $OUT, by default
# perf/results/encodings-<date>/ (the runs of 2026-12-02: perf/results/encodings-2026-12-02/).
set -euo pipefail
dir=${OUT:-perf/results/encodings-$(date +%F)}
mkdir -p "$dir"
url=http://127.0.0.1:8013
model=${2:-ctr-ranker}
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls $url --model-repository models --Logging:LogLevel:Default=Warning > /dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
until curl -sf $url/v2/health/ready > /dev/null; do sleep 0.2; done
steal() { awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
encodings=(msgpack json binary)
for r in $(seq 1 "$1"); do
  for k in 0 1 2; do
    e=${encodings[$(( (r + k) % 3 ))]}
    for c in ${CONCURRENCY:-1 16}; do
      read s0 t0 < <(steal)
      line=$(dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url $url/v2/models/$model/infer --golden models/$model/golden/batch1.json \
        --encoding $e --concurrency $c --duration 5 --warmup 2 --label "r$r" --json $dir/$model-r$r-$e-c$c.json 2>/dev/null)
      read s1 t1 < <(steal)
      echo "$e	$line	steal $(awk -v a=$((s1 - s0)) -v b=$((t1 - t0)) 'BEGIN{printf "%.1f", 100*a/b}') %"
    done
  done
done
