using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LowLatency.Tests.Lifecycle;

/// <summary>
/// Instance counts changed while requests flow, in a real engine serving the real ctr-ranker: no
/// request fails, is answered twice or past its deadline, the index, configuration and metrics show
/// each count, and a removed instance gives back its thread and its native memory.
/// </summary>
public sealed class InstancesAtRunTimeTests(ITestOutputHelper output)
{
    // A name of its own, so the worker threads counted are this test's (thread names carry it).
    private const string Model = "scale";

    private static InferenceEngine Start(string root)
    {
        var engine = new InferenceEngine(new EngineOptions { ModelRepository = root, ModelControlMode = ModelControlMode.All, StartupModels = [] });
        engine.Scan();
        engine.Load();
        return engine;
    }

    /// <summary>This process's threads named for <see cref="Model"/>'s device workers (ll-wN.scale.v1).</summary>
    private static int WorkerThreads()
    {
        int n = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                if (name.StartsWith("ll-w", StringComparison.Ordinal) && name.Contains($".{Model}.", StringComparison.Ordinal))
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // The thread ended while it was listed.
            }
        }

        return n;
    }

    [Fact]
    public async Task Count_1_2_1_3_1_under_load_fails_nothing_and_gives_back_threads_and_handles()
    {
        using var repo = new CtrRepository(name: Model, versions: 1);
        using var engine = Start(repo.Root);
        Assert.True(engine.TryGetModel(Model, out var served));
        var version = served.Versions[1];
        Assert.Equal(1, version.Instances);
        // What the version holds beside its workers' shares (the module): a removed worker that kept
        // anything would show here, whatever the remaining worker cached for new batch sizes meanwhile.
        long handlesAtStart = version.Handles.Live - version.Scheduler.WorkerHandles;
        int threadsAtStart = WorkerThreads();
        Assert.Equal(1, threadsAtStart);

        // The instances gauge as a metrics scrape reads it.
        int gauge = -1;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EngineMetrics.MeterName && instrument.Name == "instances")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == "model" && (string?)t.Value == Model)
                {
                    gauge = value;
                }
            }
        });
        listener.Start();

        // Each request's deadline (gRPC's grpc-timeout; the engine holds it whatever the queue policy,
        // unlike the `timeout` parameter): one still queued past it fails, so none may wait past it
        // because a worker is being added or removed. Its answer time is the engine's own clock.
        const long DeadlineUs = 200_000;
        long sent = 0, answered = 0, slowestUs = 0;
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        async Task Client()
        {
            while (!stop.IsCancellationRequested)
            {
                using var r = version.RentRequest();
                CtrRepository.Fill(r);
                r.DeadlineMicroseconds = DeadlineUs;
                Interlocked.Increment(ref sent);
                bool ok = await version.InferAsync(r);
                Interlocked.Increment(ref answered);
                long tookUs = r.CompletedUs - r.ArrivalUs;
                InterlockedMax(ref slowestUs, tookUs);
                if (!ok)
                {
                    failures.Enqueue($"{r.Status}: {r.Error}");
                }
                else if (tookUs > DeadlineUs)
                {
                    failures.Enqueue($"answered {tookUs} µs after arrival, past its deadline of {DeadlineUs} µs");
                }
                else
                {
                    float value = MemoryMarshal.Cast<byte, float>(r.OutputData(0))[0];
                    if (Math.Abs(value - CtrRepository.Expected) > 1e-5)
                    {
                        failures.Enqueue($"wrong answer {value}, expected {CtrRepository.Expected}");
                    }
                }
            }
        }

        var clients = Enumerable.Range(0, 6).Select(_ => Task.Run(Client)).ToList();
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref answered) > 200), "the load did not start");
        var steps = new List<string>();
        foreach (int count in (int[])[2, 1, 3, 1])
        {
            long before = Volatile.Read(ref answered);
            var outcome = await engine.SetInstancesAsync(Model, null, null, count);
            Assert.True(outcome.Succeeded, outcome.Error);
            Assert.Equal(count, version.Instances);
            Assert.Equal(count, version.Config.InstanceGroups[0].Count);
            Assert.Contains($"\"count\":{count}", version.Config.Document, StringComparison.Ordinal);
            Assert.Equal(count, engine.Index(readyOnly: true).Single(e => e.Name == Model).Instances);
            listener.RecordObservableInstruments();
            Assert.Equal(count, gauge);
            // Requests flowed across the change, and go on after it.
            Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref answered) > before + 200), $"the load stalled after the change to {count}");
            steps.Add($"{count}: {Volatile.Read(ref answered) - before} answered across the change, {WorkerThreads()} worker threads");
        }

        await stop.CancelAsync();
        await Task.WhenAll(clients);
        output.WriteLine(string.Join("\n", steps));
        output.WriteLine($"{sent} sent, {answered} answered, {failures.Count} failed, the slowest answered {Volatile.Read(ref slowestUs)} µs after arrival");

        Assert.Empty(failures);
        Assert.InRange(Volatile.Read(ref slowestUs), 0, DeadlineUs);
        Assert.Equal(sent, answered);
        Assert.Equal(0, version.InFlight);
        Assert.Equal(0, version.WorkerRestarts);
        // The removed workers' threads ended and their arenas and output buffers were freed.
        Assert.True(Poll.Until(() => WorkerThreads() == threadsAtStart), $"{WorkerThreads()} worker threads, {threadsAtStart} at the start");
        Assert.Equal(handlesAtStart, version.Handles.Live - version.Scheduler.WorkerHandles);
    }

    private static void InterlockedMax(ref long location, long value)
    {
        long seen = Volatile.Read(ref location);
        while (value > seen)
        {
            long was = Interlocked.CompareExchange(ref location, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    [Fact]
    public async Task Out_of_range_counts_unknown_models_versions_and_groups_are_refused_and_the_index_shows_the_count()
    {
        using var repo = new CtrRepository(name: "scale-refusals", versions: 1);
        using var engine = Start(repo.Root);
        Assert.True(engine.TryGetModel("scale-refusals", out var served));
        var version = served.Versions[1];

        var tooMany = await engine.SetInstancesAsync("scale-refusals", null, null, 65);
        Assert.Equal(400, tooMany.Status);
        Assert.StartsWith("count:", tooMany.Error, StringComparison.Ordinal);
        Assert.Equal(400, (await engine.SetInstancesAsync("scale-refusals", null, null, 0)).Status);
        Assert.Equal(404, (await engine.SetInstancesAsync("no-such-model", null, null, 2)).Status);
        Assert.Equal(404, (await engine.SetInstancesAsync("scale-refusals", "7", null, 2)).Status);
        var group = await engine.SetInstancesAsync("scale-refusals", null, "gpu-pool", 2);
        Assert.Equal(400, group.Status);
        Assert.StartsWith("group:", group.Error, StringComparison.Ordinal);
        Assert.Equal(1, version.Instances);

        Assert.True((await engine.SetInstancesAsync("scale-refusals", "1", null, 2)).Succeeded);
        var entry = engine.Index(readyOnly: true).Single(e => e.Name == "scale-refusals");
        Assert.Equal(2, entry.Instances);
        var sentOne = await CtrRepository.SendAsync(engine, "scale-refusals");
        Assert.Equal(InferenceStatus.Ok, sentOne.Status);
        Assert.Equal(CtrRepository.Expected, sentOne.Value, 5);
    }
}
