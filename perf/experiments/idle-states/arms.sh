#!/usr/bin/env bash
# The guest's idle loop: the reference VM boots with cpuidle-haltpoll but guest_halt_poll_ns=0 (kernel command
# line), so an idle vCPU executes HLT at once and a wake-up to it is a VM exit and back. Three arms of
# the whole engine benchmark, interleaved, rotated each round:
#   halt  - as booted (guest_halt_poll_ns=0)
#   poll  - guest halt polling at the kernel's own default, 200 us (guest_halt_poll_ns=200000)
#   qos0  - as booted, but a PM QoS request of 0 us held on /dev/cpu_dma_latency (the idle loop polls, never halts)
# Usage (root, from the repository root, after `dotnet build perf/EngineBench -c Release`):
#   perf/experiments/idle-states/arms.sh ROUNDS [OUTDIR]   (OUTDIR: perf/results/idle-states-<date>)
set -euo pipefail
rounds=${1:-6}
out=${2:-perf/results/idle-states-$(date +%F)}
mkdir -p "$out"
param=/sys/module/haltpoll/parameters/guest_halt_poll_ns
orig=$(cat $param)
trap 'echo "$orig" > $param' EXIT
arms=(halt poll qos0)
steal() { awk '/^cpu /{print $9}' /proc/stat; }
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < 3; k++)); do
    arm=${arms[$(((r + k) % 3))]}
    echo 0 > $param
    [ "$arm" = poll ] && echo 200000 > $param
    s0=$(steal); t0=$(date +%s.%N)
    if [ "$arm" = qos0 ]; then
      # The request lasts while the file is open: fd 3 of this subshell, for the run.
      ( exec 3> /dev/cpu_dma_latency; printf '\x00\x00\x00\x00' >&3
        dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --requests 20000 --out "$out/$arm-$r.json" > "$out/$arm-$r.txt" 2>&1 )
    else
      dotnet perf/EngineBench/bin/Release/net10.0/enginebench.dll --requests 20000 --out "$out/$arm-$r.json" > "$out/$arm-$r.txt" 2>&1
    fi
    s1=$(steal); t1=$(date +%s.%N)
    echo "$arm round $r: steal ticks $((s1 - s0)) over $(echo "$t1 - $t0" | bc) s" | tee -a "$out/steal.txt"
  done
done
