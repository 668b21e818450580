#!/bin/bash
# soak.sh <minutes> [out file]: one server under constant closed-loop load for <minutes>, its memory sampled every
# 30 s: wrk c=8 on ctr-ranker (batch 8, MessagePack) and c=4 on text-encoder (4 sequences padded
# together, MessagePack), both through the dynamic batcher; RSS from /proc, the managed heap and
# GC counts from the server's /metrics. A leak per request or per batch would show as RSS climbing
# with the request count. Run from anywhere; writes perf/results/soak-<date>/soak-<minutes>min.txt.
cd "$(dirname "$0")/../../.."
mkdir -p perf/results/soak-$(date +%F)
out=perf/results/soak-$(date +%F)/${2:-soak-$1min.txt}
LG=perf/LoadGen/bin/Release/net10.0/loadgen.dll
b1=$(mktemp); b2=$(mktemp); trap 'rm -f "$b1" "$b2"' EXIT
dotnet $LG body --golden models/ctr-ranker/golden/batch8.json --encoding msgpack --out "$b1" >/dev/null
dotnet $LG body --golden models/text-encoder/golden/batch4-padded.json --encoding msgpack --out "$b2" >/dev/null
dotnet host/bin/Release/net10.0/LowLatency.Host.dll --urls http://127.0.0.1:8004 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8004/v2/health/ready >/dev/null && break; done
secs=$(( $1 * 60 ))
WRK_BODY=$b1 wrk -t1 -c8 -d${secs}s -s perf/wrk/post.lua http://127.0.0.1:8004/v2/models/ctr-ranker/infer > /tmp/soak-wrk1.txt &
w1=$!
WRK_BODY=$b2 wrk -t1 -c4 -d${secs}s -s perf/wrk/post.lua http://127.0.0.1:8004/v2/models/text-encoder/infer > /tmp/soak-wrk2.txt &
w2=$!
{
  echo "# $(date -u) commit $(git rev-parse --short HEAD); t_s rss_MiB then the server's own gauges"
  for t in $(seq 0 30 $secs); do
    rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)
    m=$(curl -s http://127.0.0.1:8004/metrics | grep -E '^(dotnet_total_memory_bytes|process_working_set_bytes|dotnet_collection_count_total\{generation="2"\}|lowlatency_host_responses\{code="200",model="(ctr-ranker|text-encoder)"\}) ' | awk '{printf "%s=%s ", $1, $2}')
    echo "t=$t rss_MiB=$rss $m"
    sleep 30
  done
  wait $w1 $w2
  echo "wrk ctr-ranker: $(tail -1 /tmp/soak-wrk1.txt)"
  echo "wrk text-encoder: $(tail -1 /tmp/soak-wrk2.txt)"
} > $out 2>&1
kill $pid; wait $pid 2>/dev/null
