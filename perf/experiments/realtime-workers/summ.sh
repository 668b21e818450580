#!/bin/sh
# summ.sh dir rounds label...
d=$1; shift; n=$1; shift
for l in "$@"; do for sc in "identity, 1 producer, realtime" "identity, 1 producer, default" "identity, saturation" "balanced" "ctr-ranker, 1" "ctr-ranker, saturation"; do printf "%-8s %-32s" $l "$sc"; for r in $(seq 1 $n); do grep -h "$sc" $d/$l-$r.txt | sed 's/.*overhead p50 \([0-9.]*\) us p99 \([0-9.]*\) us.*submit->complete p50 \([0-9]*\) us p99 \([0-9]*\).*/ \1\/\2(\4)/' | tr -d '\n'; done; echo; done; done
