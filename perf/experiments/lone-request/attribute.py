"""Attribute a dotnet-trace speedscope export (sampled thread time) of the server under wrk -c1 to
the stages of one request's life, and write the result file (markdown on stdout).
   python3 attribute.py --dir <breakdown.sh's tmp dir> --command <cmd> --commit <sha>
   python3 attribute.py --dump <server.speedscope.json>   # the heaviest stacks, for checking the rules

Every sampled stack of every thread is given the stage of the first frame, leaf to root, that a rule
names; time is the speedscope's own (each sample holds until the next on its thread, ~1 ms).
The EventPipe sampler walks managed stacks only: native time (libtorch, the kernel's send and
receive, epoll) shows as the managed frame that called into it, so a P/Invoke's stage is the stage of
its caller, and what the native side did inside it is not split further."""
import argparse
import collections
import json
import os
import re
import statistics
import sys

# (stage, frame-name substrings), checked in this order against each frame from the leaf up; the
# first frame that matches any rule decides. Waits come first: a pool thread parked in its
# semaphore, the socket engine in epoll_wait, a device worker parked, are idle whoever called them.
RULES = [
    ("wake of a parked thread (pool semaphore release, futex wake)", ["LowLevelLifoSemaphore.Release", "Semaphore.Release", "ReleaseSemaphore", "ParkingSpot.Wake", "ParkingSpot.Unpark", "ParkingSpot.Futex", "RequestWorker", "EnsureThreadRequested"]),
    ("idle (parked, waiting for work or epoll)", [
        "LowLevelLifoSemaphore", "WaitForSocketEvents", "LowLevelMonitor", "WaitHandle.Wait", "Monitor.Wait",
        "Thread.Sleep", "ManualResetEventSlim.Wait", "SemaphoreSlim.Wait", "Interop+Sys.Poll", "ParkWaitStrategy",
        "SpinThenParkWaitStrategy", "SpinWaitStrategy", "LowLevelSpinWaiter", "Thread.SpinWait", "WaitOne", "Task.Wait",
        "Interop+Sys.Read(", "EventPipe", "PortableThreadPool+GateThread", "TimerQueue", "LowLevelLock",
    ]),
    ("forward (TorchScript module, libtorch)", ["libtorch", "libc10", "libgomp", "libLibTorchSharp", "TorchScriptModel", "TorchScriptModule", "LowLatency.Native.Torch", "TorchSharp.", "LibTorchSharp", "THSJIT", "THSTensor", "NativeMethods.THS"]),
    ("executor (gather, answer, output release)", ["BatchExecutor", "NativeArena", "ArenaViews", "BatchOutputs", "PaddedCopy", "TensorLayout"]),
    ("completion hand-off", ["BatchCompletion", "InferenceRequest.Complete", "InferenceRequest.Completion", "AnswerPolling", "ManualResetValueTaskSourceCore", "SetResult"]),
    ("submit, caller-runs entry, scheduling", ["Submission.", "RunOnCaller", "RunBatch", "ModelVersion.InferAsync", "DeviceWorker", "SchedulerThread", "SchedulerState", "SubmissionQueue", "DeviceWorker", "CallerThreadTorch", "BatchDecision", "WakeLead", "EngineThreading"]),
    ("decode (MessagePack request)", ["MsgPackRequestDecoder", "RequestDecoder", "MessagePack", "InferenceRequest.AddInput", "InferenceRequest.Validate", "RequestFields"]),
    ("response write (ResponseWriter, headers, Server-Timing)", ["ResponseWriter", "ServerTimingHeader", "RecordTiming", "WriteAnswer", "ResponseBuffer", "HttpResponseHeaders", "Http1OutputProducer.Write", "Http1OutputProducer.GetSpan", "Http1OutputProducer.Advance"]),
    ("flush, socket send", ["SocketSender", "Socket.Send", "SendAsync", "Interop+Sys.Send", "DoSend", "FlushAsync", "Http1OutputProducer", "TimingPipeFlusher", "ConcurrentPipeWriter"]),
    ("routing, admission (InferenceRoute, Admit, GatewayRoute)", ["InferenceRoute", "Admit", "GatewayRoute", "RouteNames", "InferenceEngine.Routing", "InferenceEngine.Route", "RateLimit", "BodyBudget", "CheckHeaders", "ModelGateway", "Routing."]),
    ("InferenceEndpoint.Submit's own frames (decode and submit inlined into it; not separable)", ["InferenceEndpoint.Submit"]),
    ("inference handler, other (InferAsync's own frames)", ["InferenceEndpoint"]),
    ("socket receive (epoll event dispatch, recv)", ["SocketAsyncEngine", "SocketAsyncContext", "Socket.Receive", "ReceiveAsync", "Interop+Sys.Receive", "DoReceive", "SocketReceiver", "SocketConnection"]),
    ("Kestrel HTTP/1.1 parse, request body, connection loop", ["HttpParser", "Http1Connection", "HttpProtocol", "Http1ContentLengthMessageBody", "Http1MessageBody", "KestrelConnection", "HttpConnection", "Pipe.", "PipeReader", "HttpRequestHeaders", "Kestrel"]),
    ("ASP.NET Core hosting (request scope, metrics, diagnostics)", ["HostingApplication", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http.", "EndpointMiddleware", "Microsoft.AspNetCore.Builder"]),
    ("thread pool dispatch (work items, async machinery)", ["ThreadPoolWorkQueue", "PortableThreadPool", "AsyncStateMachineBox", "AsyncTaskMethodBuilder", "ExecutionContext", "ThreadPool", "Task.ExecuteWith", "IThreadPoolWorkItem"]),
    ("GC, JIT, runtime", ["GC.", "JIT", "Tiered", "CallCounting", "gc_heap"]),
]


# perf only: the system call on a stack decides before its managed callers (a send's kernel time,
# waking the client included, is the send's).
SYSCALLS = [
    ("flush, socket send", ["sys_sendto", "sys_sendmsg", "sys_writev"]),
    ("socket receive (epoll event dispatch, recv)", ["sys_recvfrom", "sys_recvmsg", "sys_readv"]),
    ("wake of a parked thread (pool semaphore release, futex wake)", ["futex_wake"]),
    ("idle (parked, waiting for work or epoll)", ["futex_wait", "sys_sched_yield", "sys_nanosleep", "sys_clock_nanosleep"]),
    ("socket engine thread: epoll_wait and its loop (not separable)", ["sys_epoll"]),
]
# Checked only when no rule above matched any frame: native code without symbols under a managed caller
# is that caller's; alone, it is the runtime's.
FALLBACK = [
    ("GC, JIT, runtime", ["libclrjit.so!", "libcoreclr.so!", "libSystem.Native.so!"]),
    ("libc malloc/free, no caller unwound (not attributed)", ["libc.so.6!malloc", "libc.so.6!free", "libc.so.6!_int_", "libc.so.6!cfree"]),
    ("kernel with no system call on the stack (interrupts, preemption, context switches)", ["kernel!"]),
]


def load(path):
    with open(path) as f:
        doc = json.load(f)
    frames = [fr["name"] for fr in doc["shared"]["frames"]]
    return frames, doc["profiles"]


def intervals(profile):
    """(stack as a tuple of frame indexes root->leaf, milliseconds) for one thread's evented profile."""
    stack, last, out = [], None, collections.Counter()
    for ev in profile["events"]:
        at = ev["at"]
        if last is not None and stack and at > last:
            out[tuple(stack)] += at - last
        last = at
        if ev["type"] == "O":
            stack.append(ev["frame"])
        else:
            # Close events come in stack order; tolerate a mismatch by popping to the frame.
            if ev["frame"] in stack:
                while stack and stack.pop() != ev["frame"]:
                    pass
    return out


# Pseudo-frames the sampler adds (CPU_TIME: in managed code; UNMANAGED_CODE_TIME: in native code or
# blocked, which it cannot tell apart; ?!?: an unresolved native or stub frame) and the GC poll where the
# sampler's own suspension caught a thread: each is charged to the real frame above it.
PSEUDO = ("CPU_TIME", "UNMANAGED_CODE_TIME", "?!?", "PollGCWorker")
# A thread whose deepest real frame is one of these is parked or waiting: nothing of a request on its stack.
IDLE_TOPS = ("PortableThreadPool+WorkerThread.WorkerThreadStart", "LowLevelLifoSemaphore.Wait", "WaitHandle.Wait", "Monitor.Wait",
             "ParkingSpot.Wait", "Thread.Sleep", "ManualResetEventSlim.Wait", "SemaphoreSlim.Wait", "Interop+Sys.Read",
             "TimerQueue.TimerThread", "GateThread", "CounterGroup.PollForValues", "ConsoleLoggerProcessor", "FileSystemWatcher")


def method(name):
    """Module!Namespace.Type.Method without its argument list (types in it would match rules)."""
    return name.split("(")[0]


def real(names):
    return [method(n) for n in names if not any(p in n for p in PSEUDO)]


def classify(names):
    frames = real(names)
    top = frames[-1] if frames else "?"
    under = frames[-2] if len(frames) > 1 else ""
    if any(t in top for t in IDLE_TOPS) or ("ParkingSpot.Futex" in top and "ParkingSpot.Wait" in under):
        return "idle (parked, waiting for work or epoll)", top
    if "SocketAsyncEngine.EventLoop" in top:
        # The socket engine's own loop with a native frame under it: epoll_wait, or the unresolved
        # stub around it. Waiting and the loop's own dispatch cannot be told apart here.
        return "socket engine thread: epoll_wait and its loop (not separable)", top
    for stage, parts in SYSCALLS:
        for name in reversed(frames):
            if name.startswith("kernel!") and any(part in name for part in parts):
                return stage, name
    for rules in (RULES, FALLBACK):
        for name in reversed(frames):
            for stage, parts in rules:
                for part in parts:
                    if part in name:
                        return stage, name
    return "other (no rule matched)", top


def perf_stacks(path):
    """(thread name, stack root->leaf) per sample of `perf script` text: a header line per sample, then
    its frames leaf first, one a line: "<ip> <symbol>+<offset> (<dso>)". JIT frames come named from
    the runtime's perf map (DOTNET_PerfMapEnabled=1), "Type::Method" written as "Type.Method" here."""
    comm, frames = None, []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if comm is not None:
                    yield comm, frames[::-1]
                comm, frames = None, []
            elif not line[0].isspace():
                comm = re.split(r"\s+\d+(/\d+)?\s", line)[0].strip()
            else:
                parts = line.strip().split(" ", 1)
                rest = parts[1] if len(parts) > 1 else ""
                m = re.match(r"(.*) \((.*)\)$", rest)
                sym, dso = (m.group(1), m.group(2)) if m else (rest, "")
                sym = re.sub(r"\+0x[0-9a-f]+$", "", sym).replace("::", ".")
                if dso.startswith("/tmp/perf-"):
                    # "instance void [Module] Namespace.Type.Method(args)[Tier]": the method's own name only.
                    sym = sym.split("(")[0].split(" ")[-1]
                base = os.path.basename(dso)
                if sym == "[unknown]":
                    sym = "?"
                    if not dso or dso == "[unknown]":
                        continue
                if dso == "[kernel.kallsyms]":
                    base = "kernel"
                frames.append(f"{base}!{sym}")
    if comm is not None:
        yield comm, frames[::-1]


def attribute_perf(path):
    by_stage, by_thread, leaves, kernel = collections.Counter(), collections.defaultdict(collections.Counter), collections.defaultdict(collections.Counter), collections.Counter()
    for comm, names in perf_stacks(path):
        stage, frame = classify(names)
        if stage.startswith("idle"):
            stage = "waiting, on CPU (spinning, entering and leaving futex waits)"
        elif "Tiered Com" in comm:
            stage = "GC, JIT, runtime"
        by_stage[stage] += 1
        by_thread[stage][comm] += 1
        leaves[stage][frame] += 1
        if names and names[-1].startswith("kernel!"):
            kernel[stage] += 1
    return by_stage, by_thread, leaves, kernel


def thread_kind(name):
    if "ll-w" in name:
        return "device worker"
    if "ll-sched" in name:
        return "scheduler"
    if ".NET ThreadPool Worker" in name or "ThreadPool" in name:
        return "pool"
    if "Socket" in name or "epoll" in name.lower():
        return "socket engine"
    return "other"


def attribute(path):
    frames, profiles = load(path)
    by_stage = collections.Counter()
    by_stage_thread = collections.defaultdict(collections.Counter)
    leaves = collections.defaultdict(collections.Counter)
    spans = []
    for p in profiles:
        spans.append(p["endValue"] - p["startValue"])
        kind = thread_kind(p["name"])
        for stack, ms in intervals(p).items():
            names = [frames[i] for i in stack]
            stage, frame = classify(names)
            by_stage[stage] += ms
            by_stage_thread[stage][kind] += ms
            leaves[stage][frame] += ms
    return by_stage, by_stage_thread, leaves, profiles, max(spans) if spans else 0


def dump(path, top=40):
    frames, profiles = load(path)
    for p in profiles:
        total = p["endValue"] - p["startValue"]
        print(f"== {p['name']} ({total:.0f} ms)")
        for stack, ms in intervals(p).most_common(top):
            names = [frames[i] for i in stack]
            st = classify(names)[0]
            if st.startswith("idle"):
                continue
            print(f"  {ms:8.1f} ms  [{st}]  " + " <- ".join(n.split("(")[0] for n in reversed(names[-9:])))


def field(text, pattern, cast=float):
    m = re.search(pattern, text)
    return cast(m.group(1)) if m else None


def histogram_median(before, after, metric):
    """The median of a Prometheus histogram's growth between two scrapes, interpolated in its bucket."""
    def buckets(text):
        out = {}
        for line in text.splitlines():
            if line.startswith(metric + "_bucket") and 'model="ctr-ranker"' in line:
                le = re.search(r'le="([^"]+)"', line).group(1)
                out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
        return out
    b, a = buckets(before), buckets(after)
    if not a:
        return None, 0
    edges = sorted(a)
    counts = [a[e] - b.get(e, 0) for e in edges]
    total = counts[-1]
    if total <= 0:
        return None, 0
    half, lower, below = total / 2, 0.0, 0.0
    for edge, cum in zip(edges, counts):
        if cum >= half:
            if edge == float("inf"):
                return lower, total
            return lower + (edge - lower) * (half - below) / max(cum - below, 1e-9), total
        lower, below = edge, cum
    return None, total


def report(args):
    d = args.dir
    log = open(os.path.join(d, "log.txt")).read()
    rounds = collections.defaultdict(list)
    loads = []
    for line in log.splitlines():
        m = re.match(r"round (\d+) (floor|server) wrk\t(\d+) req/s\tp50 (\d+) us\tp90 (\d+) us\tp99 (\d+) us\terrors (\d+) load (\S+)", line)
        if m:
            rounds[m.group(2)].append((int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)), int(m.group(7))))
        lm = re.search(r"load (\S+) (\S+) (\S+)$", line)
        if lm:
            loads.append(float(lm.group(1)))
    floor_p50 = statistics.median(r[1] for r in rounds["floor"])
    server_p50 = statistics.median(r[1] for r in rounds["server"])
    st = open(os.path.join(d, "server-timing.txt")).read()
    parts = {n: field(st, rf"{n} p50 (\d+) us") for n in ("queue", "compute", "overhead")}
    st_n = field(st, r"n (\d+)", int)
    st_p50 = field(st, r"wrk p50 (\d+) us", int)
    before, after = open(os.path.join(d, "metrics-before.txt")).read(), open(os.path.join(d, "metrics-after.txt")).read()
    hist = {n: histogram_median(before, after, f"lowlatency_engine_request_{n}") for n in ("queue", "compute", "overhead", "duration")}
    fwd = open(os.path.join(d, "forward.txt")).read().strip()
    forward = field(fwd, r"p50 ([\d.]+) us")
    trace_wrk = field(log, r"trace wrk wrk\t(\d+) req/s", int)
    trace_p50 = field(log, r"trace wrk wrk\t\d+ req/s\tp50 (\d+) us", int)
    by_stage, by_thread, leaves, profiles, span_ms = attribute(os.path.join(d, "server.speedscope.json"))
    requests = trace_wrk * span_ms / 1000
    wall_us = 1e6 / trace_wrk
    w = sys.stdout.write
    w(f"# A lone request's time, by stage (ctr-ranker MessagePack, wrk -c1, loopback)\n\n")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    w(f"Commit {args.commit}, Release, {os.cpu_count()} vCPUs ({cpu}), a shared VM: other builds ran beside it, the client on the same two cores. ")
    w(f"Command: `{args.command}` (perf/experiments/lone-request/).\n\n")
    w(f"Load average (1 min) read at each step: {', '.join(f'{x:.1f}' for x in loads)}; the numbers below were taken on a machine this busy.\n\n")
    w("## Side by side (same run)\n\n| | p50 µs | rounds (req/s, p50, p90, p99) |\n|---|---|---|\n")
    for t in ("floor", "server"):
        w(f"| {t} (wrk -c1) | {statistics.median(r[1] for r in rounds[t]):.0f} | {'; '.join(f'{r[0]}, {r[1]}, {r[2]}, {r[3]}' for r in rounds[t])} |\n")
    w(f"| server − floor | {server_p50 - floor_p50:.0f} | |\n")
    for n in ("queue", "compute", "overhead"):
        hm, hn = hist[n]
        hs = f"{hm:.0f}" if hm is not None else "n/a"
        w(f"| Server-Timing {n}, median | {parts[n]:.0f} | every answer of one more wrk -c1 round ({st_n} answers, its p50 {st_p50} µs; server-timing.lua); /metrics histogram over the rounds: {hs} µs ({hn:.0f} requests, interpolated inside its bucket: 20–50 µs buckets make this rough) |\n")
    hm, hn = hist["duration"]
    if hm is not None:
        w(f"| engine duration (lowlatency_engine_request_duration), median | {hm:.0f} | bucket-interpolated over the rounds |\n")
    w(f"| forward alone, batch 1, one thread (forward.cs) | {forward:.1f} | `{fwd}` |\n")
    rest = server_p50 - floor_p50 - forward
    w(f"| server − floor − forward | {rest:.0f} | the part to account for |\n\n")
    outside = server_p50 - floor_p50 - parts["compute"]
    w(f"**Accounting of the p50 gap** (medians, so the parts need not add exactly): server − floor = {server_p50 - floor_p50:.0f} µs, of which "
      f"the engine's compute (the batch's execution: gather, forward, answer) {parts['compute']:.0f} µs, queue {parts['queue']:.0f} and engine "
      f"overhead {parts['overhead']:.0f} (no wake and no completion hop: with caller runs the batch of one runs on the request's own pool "
      f"thread, and the trace shows the device workers parked throughout); compute − forward alone = {parts['compute'] - forward:.0f} µs; "
      f"and {outside:.0f} µs outside the engine, beyond what the floor's own HTTP path costs. The tables below say which stages that "
      f"time is spent in.\n\n")
    w(f"## CPU-sample trace: where a request's thread time goes\n\n")
    w(f"dotnet-trace (default profile: sampled thread time, every managed thread about once a ms) over {span_ms / 1000:.1f} s of wrk -c1 "
      f"({trace_wrk} req/s, p50 {trace_p50} µs while traced, so {wall_us:.0f} µs of wall time per request and about {requests:.0f} requests traced). "
      f"µs per request = a stage's thread time / requests traced; it adds over all threads, so the busy stages sum to the threads' "
      f"time per request, and idle is what the sampled threads spent parked. The sampler itself suspends the runtime each ms, which is why "
      f"the traced rate is below the untraced rounds'.\n\n")
    total = sum(by_stage.values())
    busy = {s: v for s, v in by_stage.items() if not s.startswith("idle") and not s.startswith("socket engine")}
    busy_total = sum(busy.values())
    w("| stage | µs per request | % of busy | threads (ms) | heaviest frames (ms) |\n|---|---|---|---|---|\n")
    for stage, ms in sorted(busy.items(), key=lambda kv: -kv[1]):
        threads = ", ".join(f"{k} {v:.0f}" for k, v in by_thread[stage].most_common())
        top = "; ".join(f"`{f[:90]}` {v:.0f}" for f, v in leaves[stage].most_common(3))
        w(f"| {stage} | {ms * 1000 / requests:.1f} | {100 * ms / busy_total:.1f} | {threads} | {top} |\n")
    w(f"| **busy, all stages** | **{busy_total * 1000 / requests:.1f}** | 100 | | |\n")
    for stage, ms in by_stage.items():
        if stage.startswith("idle") or stage.startswith("socket engine"):
            threads = ", ".join(f"{k} {v:.0f}" for k, v in by_thread[stage].most_common())
            w(f"| {stage} | {ms * 1000 / requests:.1f} | ({100 * ms / total:.1f} % of all sampled) | {threads} | |\n")
    w(f"\nThreads sampled: {len(profiles)}; time sampled over all of them {total / 1000:.1f} s.\n")
    w("\n" + LIMITS)
    perf_path = os.path.join(d, "perf.txt")
    if os.path.exists(perf_path) and os.path.getsize(perf_path) > 0:
        pw = field(log, r"perf wrk wrk\t(\d+) req/s", int)
        pp = field(log, r"perf wrk wrk\t\d+ req/s\tp50 (\d+) us", int)
        pstage, pthread, pleaves, pkernel = attribute_perf(perf_path)
        n = sum(pstage.values())
        period_us, seconds = 250, 8
        preq = pw * seconds
        fw = field(log, r"perf-floor wrk wrk\t(\d+) req/s", int)
        fp = field(log, r"perf-floor wrk wrk\t\d+ req/s\tp50 (\d+) us", int)
        fstage = collections.Counter()
        freq = 1
        if fw and os.path.exists(os.path.join(d, "perf-floor.txt")):
            fstage = attribute_perf(os.path.join(d, "perf-floor.txt"))[0]
            freq = fw * seconds
        w(f"\n## perf: on-CPU time per stage, the server against the floor\n\n`perf record -e cpu-clock -c 250000 -g` (a sample per 250 µs of CPU) for {seconds} s of wrk -c1 on a second server "
          f"started with DOTNET_PerfMapEnabled=3 and DOTNET_EnableWriteXorExecute=0 ({pw} req/s, p50 {pp} µs; about {preq:.0f} requests; {n} samples), "
          f"then on the floor started the same way ({fw} req/s, p50 {fp} µs; {sum(fstage.values())} samples). "
          f"µs per request = samples × 250 µs / requests. Only CPU time: a thread waiting off CPU is not sampled, so a column adds up "
          f"to the process's CPU per request, not to the latency. The system call on a stack decides its stage (a send's kernel time, which on "
          f"loopback includes delivering to the client and waking it, is the send's). libtorch has no frame pointers: its samples are "
          f"the forward by their library, but do not unwind to their caller; libcoreclr has no symbols.\n\n")
        w("| stage | server CPU µs per request | floor CPU µs per request | server − floor | server % of CPU | of which kernel % | server threads (samples) | heaviest frames (samples) |\n|---|---|---|---|---|---|---|---|\n")
        for stage in sorted(set(pstage) | set(fstage), key=lambda k: -pstage.get(k, 0)):
            c, fc = pstage.get(stage, 0), fstage.get(stage, 0)
            threads = ", ".join(f"{k} {v}" for k, v in pthread[stage].most_common(3))
            top = "; ".join(f"`{f.split('!', 1)[-1][-80:]}` {v}" for f, v in pleaves[stage].most_common(3))
            w(f"| {stage} | {c * period_us / preq:.1f} | {fc * period_us / freq:.1f} | {c * period_us / preq - fc * period_us / freq:+.1f} | {100 * c / n:.1f} | {100 * pkernel[stage] / max(c, 1):.0f} | {threads} | {top} |\n")
        ft = sum(fstage.values())
        w(f"| **all** | **{n * period_us / preq:.1f}** | **{ft * period_us / freq:.1f}** | **{n * period_us / preq - ft * period_us / freq:+.1f}** | 100 | | | |\n")


LIMITS = """## What this cannot attribute

- Native frames: the EventPipe sampler stops at the managed frame that called into native code, so libtorch's
  time is one frame (`TorchScriptModule.Forward`), and the kernel's send and receive are `Socket.SendAsync`
  and `SocketAsyncContext.ReceiveAsync`; its `UNMANAGED_CODE_TIME` does not say running from blocked. perf
  splits the kernel's part, but libtorch has no frame pointers (its samples do not unwind past libtorch, and libc
  malloc/free samples with no caller stay unattributed: the floor has none) and libcoreclr has no symbols.
- Inlining: the JIT inlines small methods into their callers, so a stage's own time can appear under its caller
  (`InferenceEndpoint.Submit`'s own frames hold some of the decode and the submit; `InferAsync.MoveNext` some of
  the routing and the response write).
- The socket engine's thread: its time in `epoll_wait` (waiting) and in the loop that dispatches the events
  share one unresolved native frame in the trace; both tables keep it apart from the request's stages.
- Means, not medians: samples give each stage's mean time per request over the run, stalls of a busy VM
  included; the p50s above are medians. Both samplers slow the server (the traced and perf'd rates and p50s
  are set beside the untraced rounds').
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump")
    ap.add_argument("--dir")
    ap.add_argument("--command", default="")
    ap.add_argument("--commit", default="")
    args = ap.parse_args()
    if args.dump:
        dump(args.dump)
    else:
        report(args)


if __name__ == "__main__":
    main()
