#!/usr/bin/env bash
# burst.sh <label> <host dll> [VAR=value ...]: a fresh server (those environment variables set) under
# a steady 300 req/s of ctr-ranker MessagePack (loadgen, open loop, 45 s), and at +5 s a burst of
# large bodies at once: BURST_BODIES (16) of 64 MiB that fail to decode (0xC1 bytes: 400) and
# BURST_IDS (4) JSON requests with a 60 MiB id and no inputs (400). Prints the server's VmRSS before
# the burst, its peak, and at 2, 5, 10, 20 and 30 s after the burst's last answer, then the curl
# statuses and loadgen's summary. The bodies are made once in $TMPDIR/burst-memory.
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
label=$1; dll=$2; shift 2
PORT=${PORT:-8002}
URL=http://127.0.0.1:$PORT
dir=${TMPDIR:-/tmp}/burst-memory
mkdir -p $dir
[ -f $dir/garbage64.msgpack ] || python3 -c "open('$dir/garbage64.msgpack','wb').write(b'\xc1'*(64<<20))"
[ -f $dir/bigid.json ] || python3 -c "open('$dir/bigid.json','wb').write(b'{\"id\":\"'+b'x'*(60<<20)+b'\",\"inputs\":[]}')"

if curl -s -o /dev/null $URL/v2/health/ready; then echo "something already answers on $PORT" >&2; exit 1; fi
env "$@" dotnet "$dll" --urls $URL --model-repository models --Logging:LogLevel:Default=Warning --Logging:LogLevel:LowLatency.Host.Memory=Information $SERVER_ARGS >$dir/server-$label.log 2>&1 &
pid=$!
for i in $(seq 1 150); do sleep 0.2; curl -sf $URL/v2/health/ready >/dev/null && break; done
rss() { awk '/^VmRSS/ {print int($2/1024)}' /proc/$pid/status; }

dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url $URL/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json \
  --encoding msgpack --rate 300 --duration 45 --warmup 0 2>/dev/null >$dir/loadgen-$label.txt &
lg=$!
sleep 5
before=$(rss)
peak=$before
statuses=$dir/statuses-$label.txt
: >$statuses
t0=$(date +%s.%N)
for i in $(seq 1 ${BURST_BODIES:-16}); do
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/msgpack' --data-binary @$dir/garbage64.msgpack $URL/v2/models/ctr-ranker/infer >>$statuses &
done
for i in $(seq 1 ${BURST_IDS:-4}); do
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary @$dir/bigid.json $URL/v2/models/ctr-ranker/infer >>$statuses &
done
while [ $(jobs -rp | wc -l) -gt 2 ]; do r=$(rss); [ $r -gt $peak ] && peak=$r; sleep 0.1; done
t1=$(date +%s.%N)
line="$label before $before MiB peak $peak MiB burst $(printf %.1f $(echo "$t1 - $t0" | bc)) s; after:"
last=0
for at in 2 5 10 20 30; do sleep $((at - last)); last=$at; line="$line +${at}s $(rss)"; done
echo "$line MiB; statuses $(sort $statuses | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
wait $lg
echo "$label loadgen $(head -1 $dir/loadgen-$label.txt)"
kill $pid; wait $pid 2>/dev/null
