#!/bin/bash
# Five binary replacements under open-loop load (issue 27's benchmark): one server with
# LowLatency:ReusePort and a pid file; the load generator sends ctr-ranker MessagePack at a constant
# rate over kept-alive connections while wrk sends on new connections (Connection: close) and a second
# wrk on one kept-alive connection (a connection reset there is a read or write error: wrk does not
# resend, unlike .NET's client, which resends a request on a reused connection that died); after a
# steady phase, five new processes of the same build replace each other (docs/operations.md,
# Upgrades). Reports failed requests and socket errors on both clients, p99 per second during the
# swaps against the steady seconds, and that every old process is gone.
#   perf/upgrade.sh [rate=1000] [steady_s=8] [swaps=5] [gap_s=4] [keep=dir]   (after dotnet pwsh build.ps1 build)
# With keep, the clients' output and the servers' logs are copied there.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}; steady=${2:-8}; swaps=${3:-5}; gap=${4:-4}; keep=${5:-}
work=$(mktemp -d)
port=8160; grpc=8161
# A swap takes 4-8 s here (the new process starts libtorch and warms the models up): room for all of them.
duration=$((steady + swaps * (gap + 8) + 4))
dll=host/bin/Release/net10.0/LowLatency.Host.dll
start_server() {
  dotnet "$dll" --model-repository models --urls "http://127.0.0.1:$port" --grpc-urls "http://127.0.0.1:$grpc" \
    --LowLatency:ReusePort=true --LowLatency:PidFile="$work/server.pid" --Logging:LogLevel:Default=Warning >> "$work/server-$1.log" 2>&1 &
  echo $!
}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$work"/*.out "$work"/*.log "$keep"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
pids+=("$(start_server 0)")
for i in $(seq 1 200); do curl -sf "localhost:$port/v2/health/ready" > /dev/null && break; sleep 0.3; done
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$work/body.bin" > /dev/null

dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url "http://127.0.0.1:$port/v2/models/ctr-ranker/infer" --rate "$rate" \
  --concurrency 32 --duration "$duration" --warmup 1 --window 1 --label upgrade --json "$work/loadgen.json" > "$work/loadgen.out" 2>&1 &
load=$!
WRK_BODY="$work/body.bin" WRK_TYPE=application/msgpack wrk -t1 -c2 -d"$((duration + 1))s" -H 'Connection: close' \
  -s perf/wrk/post.lua "http://127.0.0.1:$port/v2/models/ctr-ranker/infer" > "$work/wrk.out" 2>&1 &
wrk=$!
WRK_BODY="$work/body.bin" WRK_TYPE=application/msgpack wrk -t1 -c1 -d"$((duration + 1))s" \
  -s perf/wrk/post.lua "http://127.0.0.1:$port/v2/models/ctr-ranker/infer" > "$work/wrk-keepalive.out" 2>&1 &
wrk_keep=$!
sleep "$((steady + 1))"
swap_at=$(date +%s)
echo "steady: the first $steady s; swaps from second $((steady + 1))"
for s in $(seq 1 "$swaps"); do
  old=$(cat "$work/server.pid")
  pids+=("$(start_server "$s")")
  for i in $(seq 1 600); do
    if [ "$(cat "$work/server.pid" 2>/dev/null)" != "$old" ] && ! kill -0 "$old" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "swap $s: pid $old -> $(cat "$work/server.pid") after $(( $(date +%s) - swap_at )) s"
  sleep "$gap"
done
wait "$load" || true
wait "$wrk" || true
wait "$wrk_keep" || true
echo "--- load generator (kept-alive connections, open loop at $rate req/s)"
tr '\r' '\n' < "$work/loadgen.out" | grep -a 'window\|^upgrade' | sed 's/^/  /'
tr '\r' '\n' < "$work/loadgen.out" | /usr/bin/python3 -c "
import re, statistics, sys
steady = $steady
p99 = [(int(m.group(1)), int(m.group(2))) for m in re.finditer(r'window +(\d+):.*?p99 +(\d+) us', sys.stdin.read())]
before = [v for w, v in p99 if 2 <= w <= steady]
after = [v for w, v in p99 if w > steady]
print(f'  p99 per second: steady median {statistics.median(before)} us (seconds 2-{steady}); during the swaps median {statistics.median(after)} us, worst {max(after)} us')
"
echo "--- wrk (a new connection per request)"
cat "$work/wrk.out" | sed 's/^/  /'
echo "--- wrk (one kept-alive connection: reconnects when told to close; a reset is a socket error)"
cat "$work/wrk-keepalive.out" | sed 's/^/  /'

alive=0
for p in "${pids[@]:0:${#pids[@]}-1}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
echo "--- old processes still alive: $alive of $((${#pids[@]} - 1)); serving: $(cat "$work/server.pid")"
grep -h "leaving\|stopped" "$work"/server-*.log | sed 's/^/  /' | head -20
