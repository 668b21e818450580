#!/bin/bash
# usage: [QOS=realtime] [SERVER_ARGS="--LowLatency:..."] perf/experiments/lone-request/models.sh [rounds=5] [seconds=5] [models="ctr-ranker text-encoder image-classifier"]
# A lone request of each model (its golden batch1, MessagePack, wrk -c1, loopback, Release build) against
# issue 29's low-load target, p50 ≤ floor + the model's forward at batch 1 + 5 µs: interleaved rounds of
# the floor (perf/Floor, the same body) and the server, p50 each; one round tallying Server-Timing
# (compute, queue, overhead medians); then the forward alone (forward.cs) with nothing else running.
# With QOS, each request asks for that class (parameters.qos): realtime has no batching window, which
# a lone request of a model with one (text-encoder 500 µs, image-classifier 2 ms) otherwise waits out.
# Prints a markdown table; the raw lines stay in perf/results/tmp/lone-request-models/ (not committed).
set -e
cd "$(dirname "$0")/../../.."
rounds=${1:-5}; secs=${2:-5}; models=${3:-"ctr-ranker text-encoder image-classifier"}
here=perf/experiments/lone-request
tmp=perf/results/tmp/lone-request-models; rm -rf $tmp; mkdir -p $tmp
floor_port=18091; port=18092
for p in $floor_port $port; do
  if curl -s -o /dev/null http://127.0.0.1:$p/; then echo "something already answers on 127.0.0.1:$p" >&2; exit 1; fi
done
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "start $(date -u +%FT%TZ) load $(loadavg) commit $(git rev-parse --short HEAD) qos ${QOS:-default} server args ${SERVER_ARGS:-none}" > $tmp/log.txt

dotnet perf/Floor/bin/Release/net10.0/floor.dll --urls http://127.0.0.1:$floor_port >/dev/null 2>&1 &
floor=$!
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:$port --grpc-urls http://127.0.0.1:18094 \
  --model-repository models --Logging:LogLevel:Default=Warning ${SERVER_ARGS:-} >/dev/null 2>&1 &
server=$!
trap 'kill $floor $server 2>/dev/null || true' EXIT
for i in $(seq 1 300); do sleep 0.2; curl -sf http://127.0.0.1:$port/v2/health/ready >/dev/null && break; done
p50() { WRK_BODY=$2 WRK_TYPE=application/msgpack wrk -t1 -c1 -d${3}s --latency -s perf/wrk/post.lua $1 | awk '$1=="50%"{v=$2; if (v ~ /ms$/) {sub("ms","",v); v*=1000} else if (v ~ /us$/) sub("us","",v); print v}'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for m in $models; do
  body=$tmp/$m.msgpack; golden=models/$m/golden/batch1.json
  if [ -n "${QOS:-}" ]; then
    /usr/bin/python3 -c "import json,sys; g=json.load(open(sys.argv[1])); g['request'].setdefault('parameters', {})['qos']=sys.argv[2]; json.dump(g, open(sys.argv[3], 'w'))" $golden "$QOS" $tmp/$m-golden.json
    golden=$tmp/$m-golden.json
  fi
  dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden $golden --encoding msgpack --out $body >/dev/null
  furl=http://127.0.0.1:$floor_port/v2/models/$m/infer; url=http://127.0.0.1:$port/v2/models/$m/infer
  p50 $furl $body 3 >/dev/null; p50 $url $body 5 >/dev/null
  f=""; s=""
  for r in $(seq 1 $rounds); do
    if (( r % 2 )); then a=$(p50 $furl $body $secs); b=$(p50 $url $body $secs); else b=$(p50 $url $body $secs); a=$(p50 $furl $body $secs); fi
    f="$f $a"; s="$s $b"
    echo "$m round $r floor $a server $b load $(loadavg)" | tee -a $tmp/log.txt
  done
  echo "$m floor$f" >> $tmp/log.txt; echo "$m server$s" >> $tmp/log.txt
  WRK_BODY=$body wrk -t1 -c1 -d${secs}s -s $here/server-timing.lua $url | tail -1 > $tmp/$m-server-timing.txt
  echo "$(echo $f | median) $(echo $s | median)" > $tmp/$m-p50.txt
done
kill $floor $server; wait $floor $server 2>/dev/null || true
trap - EXIT
for m in $models; do
  dotnet run $here/forward.cs -c Release -- models/$m/1/model.pt 2 2>&1 | tail -1 > $tmp/$m-forward.txt
done
echo "end $(date -u +%FT%TZ) load $(loadavg)" >> $tmp/log.txt
echo "| model | floor p50 µs | LowLatency p50 µs | Server-Timing | forward alone p50 µs | target (floor + forward + 5) | met |"
echo "|---|---|---|---|---|---|---|"
for m in $models; do
  read fl sv < $tmp/$m-p50.txt
  fw=$(awk '{print $3}' $tmp/$m-forward.txt)
  st=$(cat $tmp/$m-server-timing.txt)
  python3 -c "import sys; fl,sv,fw=map(float,sys.argv[1:4]); t=fl+fw+5; print(f'| {sys.argv[4]} | {fl:g} | {sv:g} | {sys.argv[5]} | {fw:g} | {t:.1f} | {\"yes\" if sv<=t else \"no\"} |')" $fl $sv $fw $m "$st"
done
echo
cat $tmp/log.txt
