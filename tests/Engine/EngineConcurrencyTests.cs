using LowLatency.Engine.Config;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Engine;

/// <summary>The engine under many producers, at shutdown, and when a worker dies: nothing lost, duplicated or mixed up.</summary>
public sealed class EngineConcurrencyTests
{
    /// <param name="realtimePriority">The workers' SCHED_FIFO priority; where the OS refuses it (no CAP_SYS_NICE) they run as ordinary threads, and the test still holds.</param>
    /// <param name="callerRuns">Off where a test needs every batch on the worker thread.</param>
    private static InferenceEngine StartEngine(int realtimePriority = 0, bool callerRuns = true)
    {
        // Unbounded queues (Triton's default): these tests flood the engine on purpose.
        return CtrRows.StartEngine(new EngineOptions { ModelRepository = RepoPaths.Models, MaxQueueSize = 0, WorkerRealtimePriority = realtimePriority, CallerRuns = callerRuns });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Many_producers_every_request_completes_once_with_its_own_rows(int realtimePriority)
    {
        // With realtime workers a worker preempts whatever ran on its core, a step holder included:
        // the hand-offs that avoid spinning against it (WakeHanded, StepHeldOn) must lose nothing.
        using var engine = StartEngine(realtimePriority);
        var model = CtrRows.Latest(engine);
        int completed = 0;
        var producers = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            var rng = new Random(p);
            var inFlight = new List<(InferenceRequest R, ValueTask<bool> Done, int First, int Rows)>();
            for (int i = 0; i < 400; i++)
            {
                int first = rng.Next(8), rows = rng.Next(1, 4);
                var r = CtrRows.Build(model, first, rows, borrowed: (p + i) % 2 == 0);
                inFlight.Add((r, model.InferAsync(r), first, rows));
                if (inFlight.Count == 8 || i == 399)
                {
                    foreach (var (req, done, f, n) in inFlight)
                    {
                        Assert.True(await done, req.Error);
                        CtrRows.AssertRows(req, f, n);
                        Interlocked.Increment(ref completed);
                        req.Dispose();
                    }

                    inFlight.Clear();
                }
            }
        })).ToArray();
        await Task.WhenAll(producers);
        Assert.Equal(8 * 400, completed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_lone_request_goes_when_its_window_expires_and_not_before(int realtimePriority)
    {
        // The scheduler thread wakes a worker ahead of the window's end; at the end the worker
        // takes the step itself unless the scheduler thread handed it the batch first. Either way
        // the batch leaves once, at or after the window's end, with the request's own rows.
        // The balanced level's 20 ms deadline is not what this test is about: on a loaded CI host a
        // worker's wake can stall past it. The copy keeps the window and moves the deadline away.
        using var repo = new TempRepository();
        long window = QosSettings.Default.Balanced.WindowMicroseconds;
        string config = File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")).TrimEnd().TrimEnd('}')
            + ", \"qos\": {\"balanced\": {\"max_queue_delay_microseconds\": " + window + ", \"deadline_microseconds\": 60000000}}}";
        repo.AddModel("ctr-ranker", config);
        using var engine = CtrRows.StartEngine(new EngineOptions { ModelRepository = repo.Root, MaxQueueSize = 0, WorkerRealtimePriority = realtimePriority, CallerRuns = true });
        var model = CtrRows.Latest(engine);
        for (int i = 0; i < 12; i++)
        {
            var r = CtrRows.Build(model, i, 1);
            r.Qos = QosClass.Balanced;
            Assert.True(await model.InferAsync(r), r.Error);
            CtrRows.AssertRows(r, i, 1);
            Assert.True(r.DispatchedUs - r.ArrivalUs >= window, $"request {i} dispatched {r.DispatchedUs - r.ArrivalUs} µs after arrival, inside its {window} µs window");
            Assert.True(r.ExecStartUs >= r.DispatchedUs);
            r.Dispose();
        }

        // Each window's end was told ahead to a parked worker, whose wake-ups the lead now covers.
        Assert.True(model.Scheduler.Lead.WorkerWakePeakMicroseconds > 0);
    }

    [Fact]
    public async Task Shutdown_answers_every_accepted_request()
    {
        var engine = StartEngine();
        var model = CtrRows.Latest(engine);
        var accepted = new System.Collections.Concurrent.ConcurrentBag<(InferenceRequest R, Task<bool> Done)>();
        int refused = 0, submitted = 0;
        using var go = new ManualResetEventSlim();
        var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            go.Wait();
            for (int i = 0; i < 2000; i++)
            {
                var r = CtrRows.Build(model, i, 1);
                try
                {
                    accepted.Add((r, model.InferAsync(r).AsTask()));
                    Interlocked.Increment(ref submitted);
                }
                catch (InferenceException e) when (e.Status == InferenceStatus.Unavailable)
                {
                    Interlocked.Increment(ref refused);
                    r.Dispose();
                }
            }
        })).ToArray();
        go.Set();
        // Stopped while the producers are submitting: once the engine holds some of their requests.
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref submitted) >= 100), "no request was accepted");
        engine.Dispose();
        await Task.WhenAll(producers);
        foreach (var (r, done) in accepted)
        {
            Assert.True(await done.WaitAsync(TimeSpan.FromSeconds(30)), r.Error);
            Assert.Equal(InferenceStatus.Ok, r.Status);
        }

        Assert.Equal(8000, accepted.Count + refused);
        Assert.True(refused > 0 || accepted.Count == 8000);
    }

    [Fact]
    public async Task A_worker_thread_that_dies_is_replaced_and_counted()
    {
        // The victim must reach the worker thread: a lone request would otherwise run on the test's.
        using var engine = StartEngine(callerRuns: false);
        var model = CtrRows.Latest(engine);
        var worker = (DeviceWorker<SpinThenParkWaitStrategy>)((SchedulerThread<SpinThenParkWaitStrategy>)model.Scheduler).Workers[0];
        worker.InjectThreadDeath = true;

        var victim = CtrRows.Build(model, 0, 1);
        Assert.False(await model.InferAsync(victim));
        Assert.Equal(InferenceStatus.ModelError, victim.Status);
        Assert.Contains("device worker failed", victim.Error, StringComparison.Ordinal);
        Assert.Equal(1, model.WorkerRestarts);

        for (int i = 0; i < 20; i++)
        {
            var r = CtrRows.Build(model, i, 2);
            Assert.True(await model.InferAsync(r), r.Error);
            CtrRows.AssertRows(r, i, 2);
            r.Dispose();
        }
    }
}
