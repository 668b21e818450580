#!/bin/bash
# The gateway's cost for a remote backend: a backend server (ctr-ranker, :8160) called directly, and
# through a gateway server (:8150) whose alias "rank" has that backend as its only (remote) backend;
# beside them the transport floor (perf/Floor, :8170: Kestrel answering 96 bytes), whose p50 is one
# hop's transport time. A second alias, "hop", has the floor as its remote backend: gateway-floor
# minus floor is what the gateway adds with no model behind it. Beside it the bare forwarder
# (perf/Floor --forward-to, :8180: Kestrel in, SocketsHttpHandler out, nothing else) in front of the
# floor: forwarder-floor minus floor is the least any gateway on this stack adds. Same load
# generator, MessagePack, the ctr-ranker batch1 golden, closed loop; per concurrency, rounds of
# direct / gateway (alternating order), floor, gateway-floor and forwarder-floor.
# Writes the raw lines and the medians of the rounds' p50 and p99 to perf/results/gateway-remote-<date>-<commit>/.
# Usage: perf/gateway-remote.sh [rounds=5] [seconds=5] [concurrencies="1 16"]   (after dotnet pwsh build.ps1 build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; seconds=${2:-5}; concurrencies=${3:-1 16}
out="perf/results/gateway-remote-$(date -u +%F)-$(git rev-parse --short HEAD)"
mkdir -p "$out"
backend=$(mktemp -d); gateway=$(mktemp -d)
for repo in "$backend" "$gateway"; do
  mkdir -p "$repo/ctr-ranker/1"
  cp models/ctr-ranker/config.json "$repo/ctr-ranker/"
  cp models/ctr-ranker/1/model.pt "$repo/ctr-ranker/1/"
done
echo '{"aliases": {"rank": {"backends": [{"name": "far", "url": "http://127.0.0.1:8160", "model": "ctr-ranker", "weight": 1}]},
  "hop": {"backends": [{"name": "floor", "url": "http://127.0.0.1:8170", "model": "floor", "weight": 1}]}}}' > "$gateway/aliases.json"
host=host/bin/Release/net10.0/LowLatency.Host.dll
dotnet $host --model-repository "$backend" --urls http://127.0.0.1:8160 --grpc-urls http://127.0.0.1:8161 --Logging:LogLevel:Default=Warning > "$out/backend.log" 2>&1 &
b=$!
dotnet $host --model-repository "$gateway" --urls http://127.0.0.1:8150 --grpc-urls http://127.0.0.1:8151 --Logging:LogLevel:Default=Warning > "$out/gateway.log" 2>&1 &
g=$!
dotnet perf/Floor/bin/Release/net10.0/floor.dll --urls http://127.0.0.1:8170 --response-bytes 96 > /dev/null 2>&1 &
f=$!
dotnet perf/Floor/bin/Release/net10.0/floor.dll --urls http://127.0.0.1:8180 --forward-to http://127.0.0.1:8170 > /dev/null 2>&1 &
fw=$!
trap 'kill $b $g $f $fw 2>/dev/null; rm -rf "$backend" "$gateway"' EXIT
for port in 8160 8150; do
  for i in $(seq 1 200); do curl -sf "localhost:$port/v2/health/ready" > /dev/null && break; sleep 0.3; done
done
for port in 8170 8180; do   # the floor and the forwarder answer 404 there once they listen
  for i in $(seq 1 200); do curl -s -o /dev/null "localhost:$port/" && break; sleep 0.3; done
done
sleep 1
run() { # label url concurrency
  dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url "$2" --concurrency "$3" --duration "$seconds" --warmup 2 --label "$1" 2>/dev/null \
    | tr '\r' '\n' | grep -a $'^'"$1"$'\t' | tail -1 | tee -a "$out/runs.tsv"
}
: > "$out/runs.tsv"
for c in $concurrencies; do
  for r in $(seq 1 "$rounds"); do
    if (( r % 2 )); then
      run direct "http://127.0.0.1:8160/v2/models/ctr-ranker/infer" "$c"; run gateway "http://127.0.0.1:8150/v2/models/rank/infer" "$c"
    else
      run gateway "http://127.0.0.1:8150/v2/models/rank/infer" "$c"; run direct "http://127.0.0.1:8160/v2/models/ctr-ranker/infer" "$c"
    fi
    run floor "http://127.0.0.1:8170/v2/models/ctr-ranker/infer" "$c"
    run gateway-floor "http://127.0.0.1:8150/v2/models/hop/infer" "$c"
    run forwarder-floor "http://127.0.0.1:8180/v2/models/floor/infer" "$c"
  done
done
curl -s localhost:8150/v2/gateway/rank > "$out/weights.json"
python3 - "$out/runs.tsv" > "$out/medians.md" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip('\n').split('\t')
    label, c = f[0], f[1]
    num = lambda k: float(re.search(k + r' (\d+(?:\.\d+)?)', line).group(1))
    errors = re.search(r'errors \[([^\]]*)\]', line).group(1)
    rows.setdefault((c, label), []).append((num('p50'), num('p99'), num(r'c=\d+\t(?:\S+\t)?') if False else float(f[2].split()[0]), errors))
print('| concurrency | target | runs | median p50 µs | median p99 µs | median req/s | errors (status:count) per run |')
print('|---|---|---|---|---|---|---|')
for (c, label), v in sorted(rows.items(), key=lambda kv: (int(kv[0][0][2:]), ['direct', 'gateway', 'floor', 'gateway-floor', 'forwarder-floor'].index(kv[0][1]))):
    print(f'| {c} | {label} | {len(v)} | {statistics.median(x[0] for x in v):g} | {statistics.median(x[1] for x in v):g} | {statistics.median(x[2] for x in v):g} | {" ".join(x[3] for x in v)} |')
for c in sorted({k[0] for k in rows}, key=lambda s: int(s[2:])):
    d = statistics.median(x[0] for x in rows[(c, 'direct')]); g = statistics.median(x[0] for x in rows[(c, 'gateway')]); fl = statistics.median(x[0] for x in rows[(c, 'floor')])
    gf = statistics.median(x[0] for x in rows[(c, 'gateway-floor')])
    ff = statistics.median(x[0] for x in rows[(c, 'forwarder-floor')])
    print(f'\n{c}: gateway − direct p50 = {g - d:g} µs; one hop (floor p50) = {fl:g} µs; target (≤ one hop) {"met" if g - d <= fl else "not met"}; gateway-floor − floor p50 = {gf - fl:g} µs; the bare forwarder, forwarder-floor − floor p50 = {ff - fl:g} µs')
PY
cat "$out/medians.md"
