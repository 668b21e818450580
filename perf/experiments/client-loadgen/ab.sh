#!/usr/bin/env bash
# LoadGen before and after it learned --transport and --client, against one server: does the old
# HTTP path keep its numbers, and what does sending through LowLatency.Client cost?
#   old     the LoadGen of OLD_LOADGEN (built from the commit before: its prebuilt MessagePack body)
#   raw     this LoadGen, --transport http (the same prebuilt body, through the new ISender)
#   client  this LoadGen, --transport http --client (LowLatency.Client, MessagePack)
#   binary  this LoadGen, --transport http --client --encoding binary (JSON with binary tensors)
# One Release server; N rounds, the modes' order rotating each round; closed loop at c=1 and c=16,
# 5 s after 2 s of warm-up; the host's steal over each run appended, and LoadGen's own allocation
# per request (stderr's "allocated:" line).
# MODES="old raw" runs those alone.
# Usage, from the repository root after Release builds of host/ and perf/LoadGen, with the old
# LoadGen built elsewhere (git archive <commit> | tar -x -C /tmp/old && dotnet build /tmp/old/perf/LoadGen -c Release):
#   OLD_LOADGEN=/tmp/old/perf/LoadGen/bin/Release/net10.0/loadgen.dll perf/experiments/client-loadgen/ab.sh N > runs.txt
# Each run's JSON goes to $OUT, by default perf/results/client-loadgen-<date>/ (the runs answering the question are summarised beside it).
set -euo pipefail
dir=${OUT:-perf/results/client-loadgen-$(date +%F)}
mkdir -p "$dir"
url=http://127.0.0.1:8014
model=${MODEL:-ctr-ranker}
new=perf/LoadGen/bin/Release/net10.0/loadgen.dll
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls $url --model-repository models --Logging:LogLevel:Default=Warning > /dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
until curl -sf $url/v2/health/ready > /dev/null; do sleep 0.2; done
steal() { awk '/^cpu /{print $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
read -ra modes <<< "${MODES:-old raw client binary}"
n=${#modes[@]}
for r in $(seq 1 "$1"); do
  for k in $(seq 0 $((n - 1))); do
    m=${modes[$(( (r + k) % n ))]}
    case $m in
      old) cmd=("$OLD_LOADGEN") ;;
      raw) cmd=("$new" --transport http) ;;
      client) cmd=("$new" --transport http --client) ;;
      binary) cmd=("$new" --transport http --client --encoding binary) ;;
    esac
    for c in ${CONCURRENCY:-1 16}; do
      read s0 t0 < <(steal)
      dotnet "${cmd[@]}" --url $url/v2/models/$model/infer --golden models/$model/golden/batch1.json \
        --concurrency $c --duration 5 --warmup 2 --label "r$r" --json $dir/$model-r$r-$m-c$c.json > /tmp/ab-line.txt 2> /tmp/ab-err.txt
      read s1 t1 < <(steal)
      echo "$m	$(cat /tmp/ab-line.txt)	steal $(awk -v a=$((s1 - s0)) -v b=$((t1 - t0)) 'BEGIN{printf "%.1f", 100*a/b}') %	$(grep -o 'allocated: [0-9]* B' /tmp/ab-err.txt || echo 'allocated: -')"
    done
  done
done
