#!/bin/bash
# usage: sample.sh <label> [env...]   (DLL=<another build's LowLatency.Host.dll> for another build;
#        TRANSPORT=grpc for unary gRPC ModelInfer with raw inputs, one HTTP/2 connection, LoadGen)
# The server with the allocation sampler as a startup hook, wrk c=16 for 8 s on the ctr-ranker
# batch-1 MessagePack body; what it allocated during the load, by type, goes to sample-<label>.txt:
# the sampler writes every second, and the periods that end inside the load (its first second
# excepted) are summed: bytes and collections per request. Output: perf/results/host-alloc-<date>/.
cd "$(dirname "$0")/../../.."
outdir=perf/results/host-alloc-$(date +%F); mkdir -p $outdir
out=$outdir/sample-$1.txt; label=$1; shift
hook=$PWD/perf/AllocationSampler/bin/Release/net10.0/LowLatency.AllocationSampler.dll
body=$(mktemp)
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out "$body" >/dev/null
if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 127.0.0.1:8002" >&2; exit 1; fi
rm -f "$out"
env "$@" DOTNET_STARTUP_HOOKS=$hook ALLOC_SAMPLER_PERIOD_MS=1000 ALLOC_SAMPLER_OUT=$PWD/$out \
  dotnet ${DLL:-host/bin/Release/net10.0/LowLatency.Host.dll} --urls http://127.0.0.1:8002 --grpc-urls http://127.0.0.1:8004 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
sleep 3
from=$(( $(date +%s) + 1 ))
if [[ $TRANSPORT == grpc ]]; then
  # LoadGen's line: "<label> <mode> <N> req/s ...", the rate as wrk's second field.
  line=$(dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --transport grpc --url http://127.0.0.1:8004 --golden models/ctr-ranker/golden/batch1.json --concurrency 16 --duration 8 --warmup 0 2>/dev/null | head -1 | awk -F'\t' '{print "loadgen", $3}' | sed 's/ req\/s//')
else
  line=$(WRK_BODY=$body wrk -t1 -c16 -d8s -s perf/wrk/post.lua http://127.0.0.1:8002/v2/models/ctr-ranker/infer | tail -1)
fi
to=$(date +%s)
sleep 2
kill $pid; wait $pid 2>/dev/null
rm -f "$body"
rps=$(echo "$line" | awk '{print $2}')
python3 - "$out" "$from" "$to" "$rps" "$label" "$line" > "$out.summary" <<'PY'
import sys, time
out, start, end, rps, label, line = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
day = lambda t: time.gmtime(t).tm_hour * 3600 + time.gmtime(t).tm_min * 60 + time.gmtime(t).tm_sec
a, b = day(start), day(end)
by_type, total, secs, gcs, inside = {}, 0.0, 0, 0, False
for row in open(out):
    if row.startswith("--- "):
        h, m, s = map(int, row.split()[1].split(":"))
        inside = a < h * 3600 + m * 60 + s <= b
        if inside:
            secs += 1
            gcs += int(row.split()[5])
    elif inside and row.strip():
        mb, _, name = row.split(None, 2)
        by_type[name.strip()] = by_type.get(name.strip(), 0) + float(mb)
        total += float(mb)
n = rps * secs
print(f"{label}: {line}")
print(f"{secs} s of load, {total:.1f} MB sampled, {total * 1e6 / n:.0f} B and {gcs / n:.5f} collections per request ({gcs} collections)")
for name, mb in sorted(by_type.items(), key=lambda kv: -kv[1])[:15]:
    print(f"{mb * 1e6 / n:8.1f} B/request  {name}")
PY
cat "$out.summary"
