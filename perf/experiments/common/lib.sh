# lib.sh: sourced by the HTTP scripts of perf/experiments (run from anywhere): one fresh server per
# measurement on 127.0.0.1:8002 serving ctr-ranker, wrk and loadgen against it.
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
URL=http://127.0.0.1:8002/v2/models/ctr-ranker/infer
GOLDEN=models/ctr-ranker/golden/batch1.json
body=$(mktemp)
trap 'rm -f "$body"' EXIT
dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll body --golden $GOLDEN --encoding msgpack --out "$body" >/dev/null

# Arms by name: answer polling (LowLatency__AnswerPollMicroseconds) and hill climbing
# (DOTNET_HillClimbing_Disable). Two names each: the first sets used off/on/offhc/onhc, the last
# old/poll/hcoff/new.
arm_env() {
  case $1 in
    off|old) echo LowLatency__AnswerPollMicroseconds=0 DOTNET_HillClimbing_Disable=0;;
    on|poll) echo LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=0;;
    offhc|hcoff) echo LowLatency__AnswerPollMicroseconds=0 DOTNET_HillClimbing_Disable=1;;
    onhc|new) echo LowLatency__AnswerPollMicroseconds=500 DOTNET_HillClimbing_Disable=1;;
    *) echo "unknown arm $1" >&2; exit 2;;
  esac
}

# start_server <host dll> [VAR=value ...]: sets $pid once the server is ready.
start_server() {
  local dll=$1; shift
  if curl -s -o /dev/null http://127.0.0.1:8002/v2/health/ready; then echo "something already answers on 8002" >&2; exit 1; fi
  env "$@" dotnet "$dll" --urls http://127.0.0.1:8002 --model-repository models --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 100); do sleep 0.2; curl -sf http://127.0.0.1:8002/v2/health/ready >/dev/null && break; done
}

stop_server() { kill $pid; wait $pid 2>/dev/null; }

# wrk_run <connections> <seconds>: wrk's summary line (perf/wrk/post.lua).
wrk_run() { WRK_BODY=$body wrk -t1 -c$1 -d$2s -s perf/wrk/post.lua $URL | tail -1; }

# phases <label>: c=1 for 4 s warm-up + 8 s, then c=16 for 8 s, in the running server.
phases() {
  wrk_run 1 4 >/dev/null
  echo "$1 c=1 $(wrk_run 1 8)"
  echo "$1 c=16 $(wrk_run 16 8)"
}

# The server's CPU seconds so far (utime + stime).
cpu_s() { awk -v t=$(getconf CLK_TCK) '{print ($14 + $15) / t}' /proc/$pid/stat; }

# loadgen's open loop at 500 req/s (2 s warm-up + 8 s): its summary line.
open_loop() {
  dotnet perf/LoadGen/bin/Release/net10.0/loadgen.dll --url $URL --golden $GOLDEN --rate 500 --duration 8 --warmup 2 2>&1 | tr "\r" "\n" | grep -o "run.rate=.*" | tail -1
}

# rotated <round> <items...>: the items, rotated left by (round - 1).
rotated() {
  local r=$1; shift; local a=("$@"); local k=$(( (r - 1) % ${#a[@]} ))
  echo "${a[@]:$k}" "${a[@]:0:$k}"
}

# measure_server <label> [VAR=value ...]: a fresh server with those settings; phases, then the open
# loop, then the server's CPU seconds over both, each line starting with <label>. (spin/, inline-scheduling/.)
measure_server() {
  local label=$1; shift
  start_server host/bin/Release/net10.0/LowLatency.Host.dll "$@"
  local a=$(cpu_s)
  phases "$label"
  echo "$label rate=500 $(open_loop)"
  local b=$(cpu_s); echo "$label cpu_s $(echo "$b - $a" | bc)"
  stop_server
}

# old_new <rounds>: the host build in $OLD_DLL (the commit before a change, built in a worktree)
# against this tree's (new), one fresh server per round and arm, order rotated: phases, then the
# open loop, then the server's CPU seconds over both, each line starting with "<arm> r<round>".
# (content-length/, statistics-cost/: A/Bs of a host change.)
old_new() {
  : "${OLD_DLL:?set OLD_DLL to the old build of LowLatency.Host.dll}"
  local new_dll=host/bin/Release/net10.0/LowLatency.Host.dll dll a b
  for r in $(seq 1 "$1"); do
    for arm in $(rotated $r old new); do
      dll=$OLD_DLL; [ $arm = new ] && dll=$new_dll
      start_server $dll
      a=$(cpu_s)
      phases "$arm r$r"
      echo "$arm r$r rate=500 $(open_loop)"
      b=$(cpu_s); echo "$arm r$r cpu_s $(echo "$b - $a" | bc)"
      stop_server
    done
  done
}
