#!/bin/bash
# usage (root): perf/experiments/lone-request/idle.sh [pairs=2] [rounds=3] [seconds=4]
# A lone request's compute against the forward alone, with the VM's vCPUs allowed to halt when idle (as
# booted: cpuidle-haltpoll with guest_halt_poll_ns=0) and with a PM QoS request of 0 µs held on
# /dev/cpu_dma_latency (the idle loop polls, never halts). Arms alternate, `pairs` times each:
# models.sh with QOS=realtime (floor, server, Server-Timing, forward alone) for the three models, then
# forward.cs timed after 1 ms of sleep between calls (IDLE_MS=1) under the same arm.
set -e
cd "$(dirname "$0")/../../.."
pairs=${1:-2}; rounds=${2:-3}; secs=${3:-4}
here=perf/experiments/lone-request
models="ctr-ranker text-encoder image-classifier"
arm() {
  echo "== arm $1 $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
  QOS=realtime bash $here/models.sh $rounds $secs "$models" | grep '^|'
  for m in text-encoder image-classifier; do
    echo "$m forward after 1 ms idle: $(IDLE_MS=1 dotnet run $here/forward.cs -c Release -- models/$m/1/model.pt 2 2>&1 | tail -1)"
  done
}
for p in $(seq 1 $pairs); do
  if (( p % 2 )); then order="halt qos0"; else order="qos0 halt"; fi
  for a in $order; do
    if [ $a = qos0 ]; then
      # The request lasts while the file is open: fd 3 of this subshell, for the arm.
      ( exec 3> /dev/cpu_dma_latency; printf '\x00\x00\x00\x00' >&3; arm qos0 )
    else
      arm halt
    fi
  done
done
