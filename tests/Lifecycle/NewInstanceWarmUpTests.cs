using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;
using LowLatency.Engine.Serving;
using LowLatency.Engine.Time;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Lifecycle;

/// <summary>
/// An instance added at run time warms up before it takes a batch: while its warm-up is held, the
/// version still counts the instances it had and the others serve on; once it is published, its
/// runner has run the warm-up at every warm-up batch size and only then requests' batches.
/// </summary>
public sealed class NewInstanceWarmUpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_instance_added_under_load_runs_its_warm_up_before_its_first_batch()
    {
        string model = "warm-" + Guid.NewGuid().ToString("N")[..8];
        using var repo = new CtrRepository(name: model, versions: 1);
        using var runners = new RecordingRunners();
        using var engine = new InferenceEngine(new EngineOptions
        {
            ModelRepository = repo.Root,
            ModelControlMode = ModelControlMode.All,
            StartupModels = [],
            Services = new EngineServices(SystemClock.Instance, new RoutingEpoch(), runners.Wrap),
        });
        engine.Scan();
        engine.Load();
        Assert.True(engine.TryGetModel(model, out var served));
        var version = served.Versions[1];
        Assert.Equal(1, version.Instances);
        // One runner per worker, made in order: the one worker's so far, and next the new one's.
        int first = runners.Count;
        Assert.Equal(1, first);

        long answered = 0, failed = 0;
        using var stop = new CancellationTokenSource();
        async Task Client()
        {
            while (!stop.IsCancellationRequested)
            {
                using var r = version.RentRequest();
                CtrRepository.Fill(r);
                bool ok = await version.InferAsync(r);
                Interlocked.Increment(ref ok ? ref answered : ref failed);
            }
        }

        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(Client)).ToList();
        try
        {
            Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref answered) > 100, Bound), "the load did not start");

            // The new worker's first warm-up batch is held: the worker exists and runs, but it is
            // not the version's yet, and requests go on being answered by the one it had.
            runners.HoldWarmUpFrom(first);
            var change = engine.SetInstancesAsync(model, null, null, 2);
            Assert.True(runners.WarmUpHeld.Wait(Bound), "the new instance ran no warm-up");
            long before = Volatile.Read(ref answered);
            Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref answered) > before + 100, Bound), "requests stalled while an instance warmed up");
            Assert.Equal(1, version.Instances);
            Assert.Equal(1, version.Config.InstanceGroups[0].Count);
            Assert.False(change.IsCompleted);
            var added = runners.Made(first);
            Assert.All(added.Log(), b => Assert.True(b.WarmUp, "a request's batch reached the instance during its warm-up"));
            runners.Release();

            var outcome = await change.WaitAsync(Bound);
            Assert.True(outcome.Succeeded, outcome.Error);
            Assert.Equal(2, version.Instances);

            // The instance it had is held at its next batch, so batches go to the new one.
            runners.HoldRequestsOf(first - 1);
            bool took = await Poll.UntilAsync(() => added.Log().Any(b => !b.WarmUp), Bound);
            runners.Release();
            Assert.True(took, "the new instance took no batch");

            var log = added.Log();
            int warmUps = log.FindIndex(b => !b.WarmUp);
            Assert.True(warmUps > 0, "the new instance took a batch before any warm-up");
            Assert.All(log.Skip(warmUps), b => Assert.False(b.WarmUp, "a warm-up ran after the instance took batches"));
            Assert.Equal(ModelVersion.WarmUpSizes(version.Config), new SortedSet<int>(log.Take(warmUps).Select(b => b.Rows)));
        }
        finally
        {
            runners.Release();
            await stop.CancelAsync();

            // Bounded, so that an assertion above is what a broken engine reports, not a hang on a
            // request it lost.
            await Task.WhenAny(Task.WhenAll(clients), Task.Delay(Bound));
        }

        Assert.True(clients.TrueForAll(c => c.IsCompletedSuccessfully), "a request was never answered");

        Assert.Equal(0, Volatile.Read(ref failed));
    }

    /// <summary>
    /// Wraps each worker's runner, numbered in the order workers are made, to log its batches in
    /// order (warm-up or requests, and rows), and to hold, while told to, the warm-up batches of the
    /// workers from a number on or the request batches of one worker.
    /// </summary>
    private sealed class RecordingRunners : IDisposable
    {
        private readonly List<Runner> _runners = [];
        private readonly ManualResetEventSlim _gate = new(true);
        private volatile int _holdWarmUpFrom = int.MaxValue;
        private volatile int _holdRequestsOf = -1;

        /// <summary>Set once a held warm-up batch waits at the gate.</summary>
        public ManualResetEventSlim WarmUpHeld { get; } = new(false);

        public int Count
        {
            get
            {
                lock (_runners)
                {
                    return _runners.Count;
                }
            }
        }

        public Runner Made(int index)
        {
            lock (_runners)
            {
                return _runners[index];
            }
        }

        public void HoldWarmUpFrom(int index)
        {
            _gate.Reset();
            _holdWarmUpFrom = index;
        }

        public void HoldRequestsOf(int index)
        {
            _gate.Reset();
            _holdRequestsOf = index;
        }

        public void Release()
        {
            _holdWarmUpFrom = int.MaxValue;
            _holdRequestsOf = -1;
            _gate.Set();
        }

        public void Dispose() => Release();

        public IBatchRunner Wrap(ModelVersion version, IBatchRunner inner)
        {
            lock (_runners)
            {
                var runner = new Runner(this, _runners.Count, inner);
                _runners.Add(runner);
                return runner;
            }
        }

        public sealed class Runner(RecordingRunners owner, int index, IBatchRunner inner) : IBatchRunner
        {
            private readonly List<(bool WarmUp, int Rows)> _log = [];

            public List<(bool WarmUp, int Rows)> Log()
            {
                lock (_log)
                {
                    return [.. _log];
                }
            }

            public void Execute(ReadOnlySpan<InferenceRequest> batch)
            {
                bool warmUp = batch[0].IsWarmUp;
                int rows = 0;
                foreach (var r in batch)
                {
                    rows += r.BatchSize;
                }

                lock (_log)
                {
                    _log.Add((warmUp, rows));
                }

                if (warmUp ? index >= owner._holdWarmUpFrom : index == owner._holdRequestsOf)
                {
                    if (warmUp)
                    {
                        owner.WarmUpHeld.Set();
                    }

                    owner._gate.Wait();
                }

                inner.Execute(batch);
            }

            public void Dispose() => inner.Dispose();
        }
    }
}
