#!/bin/bash
# engine-arms.sh <rounds> <outdir> <arm>...: the whole engine benchmark (or, with ONLY set, the
# scenarios matching it) once per arm and round, the arms' order rotated each round, the host's
# steal time over each run recorded (ticks of /proc/stat, 100 per second per CPU). Arms:
#   A  as shipped: nothing pinned
#   B  the device workers pinned to core 1 (--cores 1), everything else anywhere
#   C  the workers pinned to core 1, the rest of the process confined to core 0 (taskset -c 0),
#      the runtime told it has 2 cores (DOTNET_PROCESSOR_COUNT=2)
#   D  as C, without DOTNET_PROCESSOR_COUNT: the runtime counts 1 core (how it was first tried, 2026-11-27)
# Build first: dotnet build -c Release perf/EngineBench
cd "$(dirname "$0")/../../.."
B=perf/EngineBench/bin/Release/net10.0/enginebench.dll
R=$1; O=$2; shift 2; ARMS=("$@"); mkdir -p "$O"
only=(); [ -n "$ONLY" ] && only=(--only "$ONLY")
run() {
  local st0=$(awk '/^cpu /{print $9}' /proc/stat)
  case $1 in
    A) dotnet $B --requests 20000 "${only[@]}" ;;
    B) dotnet $B --requests 20000 "${only[@]}" --cores 1 ;;
    C) DOTNET_PROCESSOR_COUNT=2 taskset -c 0 dotnet $B --requests 20000 "${only[@]}" --cores 1 ;;
    D) taskset -c 0 dotnet $B --requests 20000 "${only[@]}" --cores 1 ;;
  esac > "$O/$1-$2.txt" 2>&1
  echo "$1 $2 steal_ticks $(( $(awk '/^cpu /{print $9}' /proc/stat) - st0 ))" >> "$O/steal.txt"
}
for r in $(seq 1 "$R"); do
  k=$(( (r - 1) % ${#ARMS[@]} ))
  for a in "${ARMS[@]:$k}" "${ARMS[@]:0:$k}"; do run "$a" "$r"; done
done
