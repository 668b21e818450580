#!/bin/bash
# usage: perf/experiments/lone-request/breakdown.sh [rounds=3] [seconds=5]
# Where a lone ctr-ranker MessagePack request's time goes (wrk -c1, loopback), on the Release build:
#  1. interleaved rounds of wrk -c1 against the floor (perf/Floor) and the server: p50 each;
#     the server's lowlatency_engine_request_{queue,compute,overhead} histograms over those rounds
#     (from /metrics, before and after); then one more wrk -c1 round that tallies every answer's
#     Server-Timing header (server-timing.lua): exact medians; then the model's forward alone (forward.cs).
#  2. a dotnet-trace (sampled thread time, ~1 ms) of the server under wrk -c1, converted to
#     speedscope; attribute.py sorts every sampled stack into a stage and turns the time into µs per request.
#  3. perf record (on-CPU samples, every 250 µs of CPU, call graphs by frame pointers) of a second server
#     started with DOTNET_PerfMapEnabled=3 and DOTNET_EnableWriteXorExecute=0 (so that perf can name JIT
#     code), under wrk -c1: CPU time per stage, kernel and libtorch included; then the floor the same way.
# Writes perf/results/lone-request-breakdown-<date>-<commit>.md (attribute.py prints it); the raw
# trace stays in perf/results/tmp/ (not committed).
set -e
cd "$(dirname "$0")/../../.."
rounds=${1:-3}; secs=${2:-5}
here=perf/experiments/lone-request
tmp=perf/results/tmp/lone-request-breakdown; rm -rf $tmp; mkdir -p $tmp
floor_port=18091; port=18092
url=http://127.0.0.1:$port/v2/models/ctr-ranker/infer
for p in $floor_port $port; do
  if curl -s -o /dev/null http://127.0.0.1:$p/; then echo "something already answers on 127.0.0.1:$p" >&2; exit 1; fi
done
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "start $(date -u +%FT%TZ) load $(loadavg)" > $tmp/log.txt
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden models/ctr-ranker/golden/batch1.json --encoding msgpack --out $tmp/body.msgpack >/dev/null
dotnet perf/Floor/bin/Release/net10.0/floor.dll --urls http://127.0.0.1:$floor_port >/dev/null 2>&1 &
floor=$!
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:$port --grpc-urls http://127.0.0.1:18094 \
  --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
server=$!
trap 'kill $floor $server 2>/dev/null || true' EXIT
for i in $(seq 1 300); do sleep 0.2; curl -sf http://127.0.0.1:$port/v2/health/ready >/dev/null && break; done
run_wrk() { WRK_BODY=$tmp/body.msgpack WRK_TYPE=application/msgpack wrk -t1 -c1 -d${2}s -s perf/wrk/post.lua $1 | tail -1; }
# Warm both (tiered compilation, PGO) before anything is measured.
run_wrk http://127.0.0.1:$floor_port/v2/models/ctr-ranker/infer 3 >/dev/null
run_wrk $url 5 >/dev/null
curl -s http://127.0.0.1:$port/metrics > $tmp/metrics-before.txt
for r in $(seq 1 $rounds); do
  if (( r % 2 )); then order="floor server"; else order="server floor"; fi
  for t in $order; do
    if [[ $t == floor ]]; then u=http://127.0.0.1:$floor_port/v2/models/ctr-ranker/infer; else u=$url; fi
    echo "round $r $t $(run_wrk $u $secs) load $(loadavg)" | tee -a $tmp/log.txt
  done
done
curl -s http://127.0.0.1:$port/metrics > $tmp/metrics-after.txt
WRK_BODY=$tmp/body.msgpack wrk -t1 -c1 -d${secs}s -s $here/server-timing.lua $url | tail -1 > $tmp/server-timing.txt
kill $floor; wait $floor 2>/dev/null || true
# The trace: wrk -c1 for 16 s, the trace over 10 s of it (from 3 s in).
run_wrk $url 16 > $tmp/trace-wrk.txt &
load=$!
sleep 3
echo "trace load before $(loadavg)" >> $tmp/log.txt
dotnet tool run dotnet-trace -- collect -p $server --duration 00:00:00:10 --format Speedscope -o $tmp/server.nettrace > $tmp/trace-collect.txt 2>&1
echo "trace load after $(loadavg)" >> $tmp/log.txt
wait $load
echo "trace wrk $(cat $tmp/trace-wrk.txt)" >> $tmp/log.txt
kill $server; wait $server 2>/dev/null || true
# On-CPU samples of a server whose JIT code perf can name.
env DOTNET_PerfMapEnabled=3 DOTNET_EnableWriteXorExecute=0 dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:$port \
  --grpc-urls http://127.0.0.1:18094 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
server=$!
for i in $(seq 1 300); do sleep 0.2; curl -sf http://127.0.0.1:$port/v2/health/ready >/dev/null && break; done
run_wrk $url 10 >/dev/null
run_wrk $url 12 > $tmp/perf-wrk.txt &
load=$!
sleep 2
echo "perf load before $(loadavg)" >> $tmp/log.txt
perf record -e cpu-clock -c 250000 -g -p $server -o $tmp/perf.data -- sleep 8 > $tmp/perf-record.txt 2>&1
echo "perf load after $(loadavg)" >> $tmp/log.txt
wait $load
echo "perf wrk $(cat $tmp/perf-wrk.txt)" >> $tmp/log.txt
perf script -i $tmp/perf.data > $tmp/perf.txt 2>/dev/null
kill $server; wait $server 2>/dev/null || true
# The same for the floor: the CPU a bare Kestrel request costs, stage by stage, to set against the server's.
env DOTNET_PerfMapEnabled=3 DOTNET_EnableWriteXorExecute=0 dotnet perf/Floor/bin/Release/net10.0/floor.dll --urls http://127.0.0.1:$floor_port >/dev/null 2>&1 &
floor=$!
furl=http://127.0.0.1:$floor_port/v2/models/ctr-ranker/infer
for i in $(seq 1 100); do sleep 0.2; curl -s -o /dev/null $furl && break; done
run_wrk $furl 10 >/dev/null
run_wrk $furl 12 > $tmp/perf-floor-wrk.txt &
load=$!
sleep 2
echo "perf-floor load before $(loadavg)" >> $tmp/log.txt
perf record -e cpu-clock -c 250000 -g -p $floor -o $tmp/perf-floor.data -- sleep 8 > $tmp/perf-floor-record.txt 2>&1
echo "perf-floor load after $(loadavg)" >> $tmp/log.txt
wait $load
echo "perf-floor wrk $(cat $tmp/perf-floor-wrk.txt)" >> $tmp/log.txt
perf script -i $tmp/perf-floor.data > $tmp/perf-floor.txt 2>/dev/null
kill $floor; wait $floor 2>/dev/null || true
trap - EXIT
# The forward alone, with nothing else of this script running.
dotnet run $here/forward.cs -c Release -- models/ctr-ranker/1/model.pt 2 2>&1 | tail -1 > $tmp/forward.txt
echo "end $(date -u +%FT%TZ) load $(loadavg)" >> $tmp/log.txt
commit=$(git rev-parse --short HEAD)
out=perf/results/lone-request-breakdown-$(date -u +%F)-$commit.md
python3 $here/attribute.py --dir $tmp --command "$here/breakdown.sh $rounds $secs" --commit $commit > $out
echo "wrote $out"
