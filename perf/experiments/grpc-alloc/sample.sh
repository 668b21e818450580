#!/bin/bash
# usage: sample.sh <label>
# What the server allocates per unary gRPC ModelInfer (ctr-ranker batch 1, raw_input_contents, c=16 on
# one HTTP/2 connection, 8 s), by type, as perf/experiments/host-alloc/sample.sh measures the
# MessagePack HTTP request (run that for the comparison): the allocation sampler as a startup hook,
# the periods inside the load summed. Output: perf/results/grpc-alloc-<date>/sample-<label>.txt(.summary).
cd "$(dirname "$0")/../../.."
outdir=perf/results/grpc-alloc-$(date +%F); mkdir -p $outdir
out=$outdir/sample-$1.txt; label=$1
hook=$PWD/perf/AllocationSampler/bin/Release/net10.0/LowLatency.AllocationSampler.dll
dotnet build perf/experiments/grpc-alloc -c Release -v q -nologo >/dev/null || exit 1
load=perf/experiments/grpc-alloc/bin/Release/net10.0/grpcload.dll
if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 127.0.0.1:8002" >&2; exit 1; fi
rm -f "$out"
DOTNET_STARTUP_HOOKS=$hook ALLOC_SAMPLER_PERIOD_MS=1000 ALLOC_SAMPLER_OUT=$PWD/$out \
  dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8002 --grpc-urls http://127.0.0.1:8003 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
dotnet $load http://127.0.0.1:8003 2 16 models/ctr-ranker/golden/batch1.json ctr-ranker >/dev/null
sleep 2
from=$(( $(date +%s) + 1 ))
line=$(dotnet $load http://127.0.0.1:8003 8 16 models/ctr-ranker/golden/batch1.json ctr-ranker | tail -1)
to=$(date +%s)
sleep 2
kill $pid; wait $pid 2>/dev/null
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
for name, mb in sorted(by_type.items(), key=lambda kv: -kv[1])[:25]:
    print(f"{mb * 1e6 / n:8.1f} B/request  {name}")
PY
cat "$out.summary"
