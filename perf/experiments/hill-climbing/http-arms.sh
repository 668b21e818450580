#!/bin/bash
# http-arms.sh <rounds> fixed|rotate <arm>...: one fresh server (this checkout's Release build) per
# round and arm, wrk c=1 (4 s warm-up + 8 s), then c=16 (8 s) in the same process; arms are named
# in lib.sh (answer polling 0/500 µs x hill climbing on/off), in the given order every round
# (fixed) or rotated by one each round (rotate). Run after `dotnet build -c Release host` and the
# LoadGen build. As run on 2026-11-28 (perf/results/archive/2026-11-28/hill-climbing-24f2864/):
#   http-arms.sh 4 fixed off on offhc onhc      > http4.txt
#   http-arms.sh 6 rotate off on offhc          > http3.txt
#   http-arms.sh 8 rotate old poll hcoff new    > http-knobs.txt
source "$(dirname "$0")/../common/lib.sh"
rounds=$1; order=$2; shift 2
for r in $(seq 1 "$rounds"); do
  arms="$*"; [ "$order" = rotate ] && arms=$(rotated $r "$@")
  for arm in $arms; do
    settings=$(arm_env $arm) || exit 2
    start_server host/bin/Release/net10.0/LowLatency.Host.dll $settings
    phases $arm
    stop_server
  done
done
