#!/bin/bash
# The near cache's per-read metrics through prometheus-net's meter adapter against bound series:
# two builds of the server, each in turn, rounds alternating which goes first; in each, the ranking
# model called with ids (near-cache hit) alternating with the same model called with ready tensors
# on every connection (loadgen --paired-url), c=1 and c=16. Prints each run's two lines and the
# medians of (ids − tensors) p50 and of Server-Timing `features` p50/p99; the lines and the medians go
# to perf/results/feature-metrics-<date>-<commit>/ (runs.tsv, summary.txt).
# Usage: perf/experiments/feature-metrics/ab.sh <baseline LowLatency.Host.dll> [rounds=4] [seconds=6]
#        (after dotnet pwsh build.ps1 build; needs /usr/bin/python3 with numpy and msgpack)
set -euo pipefail
cd "$(dirname "$0")/../../.."
base=$1; rounds=${2:-4}; seconds=${3:-6}
new=host/bin/Release/net10.0/LowLatency.Host.dll
loadgen=perf/LoadGen/bin/Release/net10.0/loadgen.dll
tmp=$(mktemp -d); pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/models/candidate-ranker/1" "$tmp/models/candidate-ranker-tensors/1" "$tmp/req"
cp models/candidate-ranker/config.json "$tmp/models/candidate-ranker/"
cp models/candidate-ranker/1/model.pt "$tmp/models/candidate-ranker/1/"
cp models/candidate-ranker/1/model.pt "$tmp/models/candidate-ranker-tensors/1/"
/usr/bin/python3 -c "
import json, sys; c = json.load(open('models/candidate-ranker/config.json')); c.pop('features'); c['name'] = 'candidate-ranker-tensors'
json.dump(c, open(sys.argv[1], 'w'))" "$tmp/models/candidate-ranker-tensors/config.json"
/usr/bin/python3 perf/joined.py requests --model models/candidate-ranker --feature-repository feature_repo --rows 4 --out "$tmp/req" > /dev/null
dir=perf/results/feature-metrics-$(date -u +%F)-$(git rev-parse --short HEAD); mkdir -p "$dir"
out=$dir/runs.tsv; : > "$out"
for r in $(seq 1 "$rounds"); do
  order="base new"; (( r % 2 )) || order="new base"
  for build in $order; do
    dll=$base; [[ $build == new ]] && dll=$new
    dotnet "$dll" --urls http://127.0.0.1:8002 --LowLatency:Grpc:Urls= --model-repository "$tmp/models" --feature-repository feature_repo --Logging:LogLevel:Default=Warning > "$tmp/server.log" 2>&1 &
    pid=$!
    for i in $(seq 1 200); do curl -sf localhost:8002/v2/health/ready > /dev/null && break; sleep 0.2; done
    /usr/bin/python3 perf/joined.py push --model models/candidate-ranker --url http://127.0.0.1:8002 > /dev/null
    for c in 1 16; do
      dotnet $loadgen --url http://127.0.0.1:8002/v2/models/candidate-ranker-tensors/infer --golden "$tmp/req/tensors-4.json" --label tensors \
        --paired-url http://127.0.0.1:8002/v2/models/candidate-ranker/infer --paired-golden "$tmp/req/ids-4.json" --paired-label ids \
        --concurrency $c --duration "$seconds" --warmup 2 2>/dev/null | sed "s/^/$build\tround $r\t/" | tee -a "$out"
    done
    kill $pid; wait $pid 2>/dev/null || true; pid=
  done
done
/usr/bin/python3 - "$out" > "$dir/summary.txt" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    build, rnd, label, mode = line.split('\t')[:4]
    p50 = int(re.search(r'p50 (\d+) us', line).group(1))
    f = re.search(r'features (\d+)/(\d+)', line)
    runs.setdefault((build, mode, rnd), {})[label] = (p50, f and (int(f.group(1)), int(f.group(2))))
for build in ('base', 'new'):
    for mode in ('c=1', 'c=16'):
        rs = [v for (b, m, _), v in runs.items() if b == build and m == mode]
        d = [v['ids'][0] - v['tensors'][0] for v in rs]
        print(f"{build} {mode}: ids − tensors p50 µs {d}, median {statistics.median(d)}; features p50 median {statistics.median(v['ids'][1][0] for v in rs)}, p99 median {statistics.median(v['ids'][1][1] for v in rs)}")
PY
cat "$dir/summary.txt"
