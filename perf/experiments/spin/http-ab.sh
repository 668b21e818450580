#!/bin/bash
# http-ab.sh <rounds>: the device worker's spin before parking (LowLatency:SpinMicroseconds) at 50 (as
# shipped), 300 and 1000 µs through HTTP, the same build, one fresh server per round and arm, order
# rotated: wrk c=1 (4 s warm-up + 8 s), c=16 (8 s), loadgen's open loop at 500 req/s (2 + 8 s), and
# the server's CPU seconds over all of it. Client on the same 2 cores (the reference VM has no others).
# Each server's measurement is lib.sh's measure_server since the runs (the same commands; smoke-tested).
source "$(dirname "$0")/../common/lib.sh"
for r in $(seq 1 "$1"); do
  for spin in $(rotated $r 50 300 1000); do
    measure_server "spin$spin r$r" LowLatency__SpinMicroseconds=$spin
  done
done
