using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using HdrHistogram;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Serving;
using LowLatency.Engine.Time;
using TorchSharp;

// The engine without HTTP: submit -> batch -> execute -> complete, timed per request from the
// engine's own timestamps, and managed allocation per request in steady state.
//   enginebench [--requests 20000] [--producers 4] [--nice 0] [--rt-priority 0] [--prometheus] [--wait spinthenpark|spin|park] [--spin-us 50] [--answer-poll-us 0] [--cores 1,0] [--only <scenario name part>[|<another>...]] [--out perf/results/engine.json]
// Run from the repository root (it reads models/ and perf/models/).
int requests = Arg("--requests", 20000);
int saturationProducers = Arg("--producers", 4);
int nice = Arg("--nice", 0);
int rtPriority = Arg("--rt-priority", 0);
if (args.Contains("--prometheus"))
{
    // prometheus-net's adapter listening to every instrument of the engine's meter: how the server
    // exported them before 72e6f36 (2026-11-27). The server now binds the per-request and per-batch series once
    // per version (host/Diagnostics/PrometheusRequestMetrics.cs) and the adapter takes only the
    // gauges, so this measures the old way, as an upper bound of what listening costs.
    Prometheus.Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = i => i.Meter.Name == EngineMetrics.MeterName);
    await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null);
}

var wait = Enum.Parse<WaitStrategyKind>(ArgString("--wait") ?? nameof(WaitStrategyKind.SpinThenPark), ignoreCase: true);
long spin = Arg("--spin-us", 50);
// 0 (the engine's default): every answer goes through the thread pool; 500: answer polling on.
long answerPoll = Arg("--answer-poll-us", (int)new EngineOptions().AnswerPollMicroseconds);
string? outPath = ArgString("--out");
// Several parts separated by '|' run every scenario that names any of them, in the usual order.
string[]? only = ArgString("--only")?.Split('|');
int[] cores = ArgString("--cores") is { } c ? c.Split(',').Select(int.Parse).ToArray() : [];
var results = new List<Dictionary<string, object>>();
if (rtPriority != 0)
{
    bool allowed = false;
    var probe = new Thread(() => allowed = LowLatency.Native.Threading.ThreadTuning.UseRealtimePriority(rtPriority));
    probe.Start();
    probe.Join();
    if (!allowed)
    {
        Console.Error.WriteLine($"--rt-priority {rtPriority}: SCHED_FIFO refused (1 … 99, and it needs CAP_SYS_NICE or RLIMIT_RTPRIO)");
        return 2;
    }
}


using var engine = new InferenceEngine(new EngineOptions { ModelRepository = "perf/models", ThreadNice = nice, WorkerRealtimePriority = rtPriority, WaitStrategy = wait, SpinMicroseconds = spin, AnswerPollMicroseconds = answerPoll, WorkerCores = cores });
engine.Scan();
engine.Load();
using var served = new InferenceEngine(new EngineOptions { ModelRepository = "models", ThreadNice = nice, WorkerRealtimePriority = rtPriority, WaitStrategy = wait, SpinMicroseconds = spin, AnswerPollMicroseconds = answerPoll, WorkerCores = cores });
served.Scan();
served.Load();
if (wait == WaitStrategyKind.Spin)
{
    // Under Spin every scheduler and worker thread of every loaded version holds a core, always:
    // with fewer cores than that the producers never run (on 2 cores it hung until killed).
    int spinners = 0;
    foreach (var m in engine.Models.Concat(served.Models))
    {
        foreach (var v in m.Versions.Values)
        {
            spinners += 1 + v.Config.InstanceGroups.Sum(g => g.Count);
        }
    }

    if (spinners >= Environment.ProcessorCount)
    {
        Console.Error.WriteLine($"--wait spin: the loaded models have {spinners} scheduler and worker threads, each spinning on a core of its own, and this machine has {Environment.ProcessorCount} cores with none left for the producers: refused (use spinthenpark, or a host with more cores)");
        return 2;
    }
}

engine.TryGetModel("identity", out var identityModel);
served.TryGetModel("ctr-ranker", out var ctrModel);
var identity = identityModel.Latest;
var ctr = ctrModel.Latest;
// Whether the thread pool's hill climbing ran decides how often identity saturation lands in its slow
// mode on a small machine (docs/performance.md#thread-pool-hill-climbing): say which this run had. The
// environment variable, where set, overrides the runtimeconfig.
Console.WriteLine($"thread pool: DOTNET_HillClimbing_Disable={Environment.GetEnvironmentVariable("DOTNET_HillClimbing_Disable") ?? "(unset)"}, runtimeconfig System.Threading.ThreadPool.HillClimbing.Disable={AppContext.GetData("System.Threading.ThreadPool.HillClimbing.Disable") ?? "(unset)"}");
// Where the workers run against what the runtime counted: under taskset the runtime counts only the
// mask's cores unless DOTNET_PROCESSOR_COUNT says otherwise (docs/performance.md#worker-cores).
// Which machine: the project's VM is not always on the same host generation (family 26, Zen 5, on
// 2026-12-02; runs before it did not record the family), and its numbers differ with it.
string machine = $"{CpuName()}, {Environment.OSVersion.VersionString}";
Console.WriteLine($"machine: {machine}, {Environment.ProcessorCount} cores");
Console.WriteLine($"cores: the runtime counts {Environment.ProcessorCount}, the process's affinity mask holds {LowLatency.Native.Threading.ThreadTuning.AllowedCoreCount()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, workers pinned to {(cores.Length == 0 ? "none" : string.Join(",", cores))}");
Console.WriteLine($"estimates after warm-up: identity 1 row {identity.Estimator.Estimate(1)} us, 64 rows {identity.Estimator.Estimate(64)} us; ctr-ranker 1 row {ctr.Estimator.Estimate(1)} us, 64 rows {ctr.Estimator.Estimate(64)} us");

if (args.Contains("--alloc-trace"))
{
    using var trace = new LowLatency.AllocationSampler.AllocationSampler();
    await Run(identity, 1, 1, QosClass.None, 200_000, null);
    foreach (var (type, bytes) in trace.BytesByType.OrderByDescending(kv => kv.Value).Take(15))
    {
        Console.WriteLine($"{bytes / 200_000.0,8:F1} B/request  {type}");
    }

    return 0;
}

// Tiered compilation (with PGO) promotes hot methods in the background over the first seconds:
// run the whole path once first, so that the first scenario is not measured on early code.
await Run(identity, 1, 1, QosClass.Realtime, requests, null);
await Run(identity, 4, 16, QosClass.None, requests * 4, null);
await Run(ctr, 1, 1, QosClass.Realtime, requests / 4, null);

// Counts are sized so that every scenario runs for about a second or more: a p99 over 40 ms of
// saturation (20,000 identity requests) was one preemption burst more or less, not a tail.
await Scenario("identity, 1 producer, realtime", identity, producers: 1, inFlight: 1, QosClass.Realtime, count: requests * 5);
await Scenario("identity, 1 producer, default class", identity, producers: 1, inFlight: 1, QosClass.None, count: requests * 5);
await Scenario($"identity, saturation: {saturationProducers} producers x 16 in flight", identity, producers: saturationProducers, inFlight: 16, QosClass.None, count: requests * 20);
// A lone request of the balanced class waits out its whole 8 ms window: its dispatch time (window
// deadline to execution start) is how late the scheduler thread's timer wakes it, plus the hand-off.
await Scenario("identity, 1 producer, balanced: its 8 ms window expires alone", identity, producers: 1, inFlight: 1, QosClass.Balanced, count: 400);
await Scenario("ctr-ranker, 1 producer, realtime", ctr, producers: 1, inFlight: 1, QosClass.Realtime);
await Scenario($"ctr-ranker, saturation: {saturationProducers} producers x 16 in flight", ctr, producers: saturationProducers, inFlight: 16, QosClass.None, count: requests * 5);
ExecutorPerBatch(identity, "identity");
ExecutorPerBatch(ctr, "ctr-ranker");

if (outPath is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
    await File.WriteAllTextAsync(outPath, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
}

return 0;

async Task Scenario(string name, ModelVersion model, int producers, int inFlight, QosClass qos, int count = 0)
{
    if (only is not null && !NamesAny(name, only))
    {
        return;
    }

    int total = count > 0 ? count : requests;
    // Warm-up, then the measured run.
    await Run(model, producers, inFlight, qos, total / 5, null);
    var h = new Histograms(total);
    GC.Collect();
    long before = GC.GetTotalAllocatedBytes(precise: true);
    var pausedBefore = GC.GetTotalPauseDuration();
    int gen0Before = GC.CollectionCount(0), gen2Before = GC.CollectionCount(2);
    var cpuBefore = CpuTimes();
    var watch = System.Diagnostics.Stopwatch.StartNew();
    var (done, failed) = await Run(model, producers, inFlight, qos, total, h);
    watch.Stop();
    var cpuAfter = CpuTimes();
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
    var row = new Dictionary<string, object>
    {
        ["scenario"] = name,
        ["requests"] = done,
        // A failed request is part of the result, not the end of the run (one that timed out in the
        // queue after a stall of the whole VM used to abort it): counted here, its first error printed.
        ["failed"] = failed.Count,
        ["first_failure"] = failed.First ?? "",
        ["gc_pause_ms_total"] = Math.Round((GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds, 2),
        ["gc_collections"] = GC.CollectionCount(0) - gen0Before,
        ["gc_gen2_collections"] = GC.CollectionCount(2) - gen2Before,
        ["throughput_per_s"] = Math.Round(done / watch.Elapsed.TotalSeconds),
        ["overhead_us_p50"] = h.Overhead.GetValueAtPercentile(50),
        ["overhead_us_p99"] = h.Overhead.GetValueAtPercentile(99),
        ["overhead_us_p999"] = h.Overhead.GetValueAtPercentile(99.9),
        ["submit_to_complete_us_p50"] = h.Total.GetValueAtPercentile(50),
        ["submit_to_complete_us_p99"] = h.Total.GetValueAtPercentile(99),
        ["dispatch_us_p50"] = h.Dispatch.GetValueAtPercentile(50),
        ["dispatch_us_p99"] = h.Dispatch.GetValueAtPercentile(99),
        ["dispatch_step_us_p50"] = h.Timer.GetValueAtPercentile(50),
        ["dispatch_step_us_p99"] = h.Timer.GetValueAtPercentile(99),
        ["worker_wake_us_p50"] = h.Wake.GetValueAtPercentile(50),
        ["worker_wake_us_p99"] = h.Wake.GetValueAtPercentile(99),
        ["completion_us_p50"] = h.Completion.GetValueAtPercentile(50),
        ["completion_us_p99"] = h.Completion.GetValueAtPercentile(99),
        ["compute_us_p50"] = h.Compute.GetValueAtPercentile(50),
        ["compute_us_p99"] = h.Compute.GetValueAtPercentile(99),
        ["queue_us_p50"] = h.Queue.GetValueAtPercentile(50),
        ["queue_us_p99"] = h.Queue.GetValueAtPercentile(99),
        ["batches"] = h.Batches,
        // Answered to a submitter polling for it (AnswerPolling), not through the thread pool.
        ["answered_to_poller"] = h.Polled,
        ["allocated_bytes_per_request_all_threads"] = Math.Round((double)allocated / done, 1),
        // How far ahead of a window's end an idle worker is woken after this scenario (WakeLead),
        // and the decaying peaks of the two late wake-ups it covers.
        ["wake_lead_us"] = model.Scheduler.Lead.Microseconds,
        ["timer_lateness_peak_us"] = model.Scheduler.Lead.TimerPeakMicroseconds,
        ["worker_wake_peak_us"] = model.Scheduler.Lead.WorkerWakePeakMicroseconds,
        // The pool's size when the scenario ends: more threads than cores is the slow mode of the
        // saturation scenarios on a small machine (docs/performance.md#thread-pool-hill-climbing).
        ["pool_threads"] = ThreadPool.ThreadCount,
        // The share of all CPUs' time the host gave to others while this VM's vCPUs wanted it: on a
        // shared VM, which runs the host disturbed. -1 where /proc/stat is not there to read.
        ["machine"] = machine,
        ["host_steal_percent"] = cpuBefore is { } b && cpuAfter is { } a && a.Total > b.Total ? Math.Round(100.0 * (a.Steal - b.Steal) / (a.Total - b.Total), 1) : -1,
    };
    results.Add(row);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: {row["throughput_per_s"]} req/s; overhead p50 {row["overhead_us_p50"]} us p99 {row["overhead_us_p99"]} us p99.9 {row["overhead_us_p999"]} us (dispatch p99 {row["dispatch_us_p99"]} us = step p50/p99 {row["dispatch_step_us_p50"]}/{row["dispatch_step_us_p99"]} + wake p50/p99 {row["worker_wake_us_p50"]}/{row["worker_wake_us_p99"]}, completion p99 {row["completion_us_p99"]} us); submit->complete p50 {row["submit_to_complete_us_p50"]} us p99 {row["submit_to_complete_us_p99"]} us; compute p50 {row["compute_us_p50"]} us p99 {row["compute_us_p99"]} us; {h.Batches} batches; {h.Polled} answered to a polling submitter; wake lead {row["wake_lead_us"]} us (peaks: timer {row["timer_lateness_peak_us"]}, worker {row["worker_wake_peak_us"]}); {row["pool_threads"]} pool threads; {row["allocated_bytes_per_request_all_threads"]} B/request allocated (all threads, TorchSharp included); GC paused {row["gc_pause_ms_total"]} ms in {row["gc_collections"]} collections ({row["gc_gen2_collections"]} gen2); host steal {row["host_steal_percent"]} %"));
    if (failed.Count > 0)
    {
        Console.WriteLine($"{name}: {failed.Count} of {done} requests failed; the first: {failed.First}");
    }
}

async Task<(int Sent, Failures Failed)> Run(ModelVersion model, int producers, int inFlight, QosClass qos, int total, Histograms? h)
{
    int perProducer = total / producers;
    var failed = new Failures();
    var tasks = Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
    {
        var pending = new InferenceRequest[inFlight];
        var completions = new ValueTask<bool>[inFlight];
        var bodies = Bodies(model, inFlight);
        for (int sent = 0; sent < perProducer; sent += inFlight)
        {
            int n = Math.Min(inFlight, perProducer - sent);
            for (int i = 0; i < n; i++)
            {
                var r = model.RentRequest();
                Fill(model, r, sent + i, bodies[i]);
                r.Qos = qos;
                pending[i] = r;
                // A producer with one request in flight awaits it at once, as the HTTP endpoint does,
                // and may be answered by polling; one with several must submit them all first.
                completions[i] = model.InferAsync(r, pollWhenAlone: inFlight == 1);
            }

            for (int i = 0; i < n; i++)
            {
                if (await completions[i])
                {
                    h?.Record(pending[i]);
                }
                else
                {
                    failed.Add(pending[i]);
                }

                pending[i].Dispose();
            }
        }
    })).ToArray();
    await Task.WhenAll(tasks);
    return (perProducer * producers, failed);
}

// One stand-in request body per in-flight slot, per input: the request borrows its bytes, as the
// server's requests borrow them from Kestrel's buffers, and the worker copies them into the batch.
static byte[][][] Bodies(ModelVersion model, int slots)
{
    var config = model.Config;
    return Enumerable.Range(0, slots).Select(_ => config.Inputs.Select(spec =>
        new byte[spec.DataType.ElementSize() * spec.Dims.Aggregate(1L, (a, d) => a * d)]).ToArray()).ToArray();
}

static void Fill(ModelVersion model, InferenceRequest r, int seed, byte[][] body)
{
    var config = model.Config;
    // The harness must not allocate per request itself, or its bytes would be counted as the engine's.
    Span<long> dims = stackalloc long[8];
    for (int i = 0; i < config.Inputs.Count; i++)
    {
        var spec = config.Inputs[i];
        dims[0] = 1;
        spec.Dims.CopyTo(dims[1..]);
        var data = body[i];
        if (spec.DataType == TensorDataType.FP32)
        {
            MemoryMarshal.Cast<byte, float>(data.AsSpan()).Fill(seed % 7);
        }
        else
        {
            MemoryMarshal.Cast<byte, long>(data.AsSpan()).Fill(seed);
        }

        r.AddInput(i, spec.DataType, dims[..(spec.Dims.Length + 1)], new System.Buffers.ReadOnlySequence<byte>(data));
    }
}

// The executor's own allocation per batch (the module call, tensor views, outputs): alone, on this thread, batch size 1.
void ExecutorPerBatch(ModelVersion model, string name)
{
    using var script = TorchScriptModel.Load(Path.Combine(name == "identity" ? "perf/models" : "models", name, "1", "model.pt"), model.Config);
    using var executor = new BatchExecutor(model.Config, script);
    var r = model.RentRequest();
    Fill(model, r, 1, Bodies(model, 1)[0]);
    r.Validate();
    var batch = new[] { r };
    using (torch.inference_mode())
    {
        for (int i = 0; i < 2000; i++)
        {
            executor.Execute(batch);
            r.ReleaseOutputs();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5000; i++)
        {
            executor.Execute(batch);
            r.ReleaseOutputs();
        }

        double perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / 5000.0;
        results.Add(new Dictionary<string, object> { ["scenario"] = $"{name}: executor alone, per batch", ["allocated_bytes_per_batch"] = perBatch });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: executor alone allocates {perBatch:F0} B per batch (module call, tensor views, outputs)"));
    }

    r.Dispose();
}

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string? ArgString(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static bool NamesAny(string scenario, string[] parts)
{
    foreach (var part in parts)
    {
        if (scenario.Contains(part, StringComparison.Ordinal))
        {
            return true;
        }
    }

    return false;
}

// The CPU's name with its family, model and stepping from /proc/cpuinfo ("AMD EPYC" alone names
// several generations); "unknown" where there is none.
static string CpuName()
{
    if (!File.Exists("/proc/cpuinfo"))
    {
        return "unknown";
    }

    string name = "?", family = "?", model = "?", stepping = "?";
    foreach (var line in File.ReadLines("/proc/cpuinfo"))
    {
        if (line.Length == 0)
        {
            break;
        }

        int colon = line.IndexOf(':');
        if (colon < 0)
        {
            continue;
        }

        string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
        switch (key)
        {
            case "model name": name = value; break;
            case "cpu family": family = value; break;
            case "model": model = value; break;
            case "stepping": stepping = value; break;
        }
    }

    return $"{name} (family {family}, model {model}, stepping {stepping})";
}

// All CPUs' steal and total time so far, in clock ticks, from /proc/stat's first line (user nice
// system idle iowait irq softirq steal; guest time is inside user); null where there is none.
static (long Steal, long Total)? CpuTimes()
{
    if (!File.Exists("/proc/stat"))
    {
        return null;
    }

    string[] f;
    using (var reader = new StreamReader("/proc/stat"))
    {
        f = reader.ReadLine()!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    long total = 0;
    for (int i = 1; i <= 8; i++)
    {
        total += long.Parse(f[i], CultureInfo.InvariantCulture);
    }

    return (long.Parse(f[8], CultureInfo.InvariantCulture), total);
}
