using System.Collections.Concurrent;
using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The scheduling thread of one model version (as Triton has one per model): drains the lock-free
/// submission queue, admits or refuses each request, fires timeouts from the timer wheel on time even
/// while every worker is busy with a long batch, and hands each free device worker the next batch as
/// soon as <see cref="BatchPolicy"/> says it should go.
/// </summary>
internal sealed class ModelScheduler<TWait> : IModelScheduler
    where TWait : struct, IWaitStrategy
{
    private readonly ModelConfig _config;
    private readonly ConcurrentQueue<InferenceRequest> _submissions = new();
    private readonly ParkingSpot _spot = new();
    private readonly BatchScheduler _core;
    private readonly IDeviceWorker[] _workers;
    private readonly Thread _thread;
    private readonly TWait _wait;
    private volatile bool _stopping;

    public ModelScheduler(ModelConfig config, long version, TorchScriptModel model, ComputeEstimator estimator, QosSettings qos, EngineThreading threading, TWait wait)
    {
        _config = config;
        _wait = wait;
        var workers = new List<IDeviceWorker>();
        foreach (var group in config.InstanceGroups)
        {
            for (int i = 0; i < group.Count; i++)
            {
                // Thread names show up in dotnet-trace and top -H: say which model and instance.
                int core = threading.WorkerCores.Count > 0 ? threading.WorkerCores[workers.Count % threading.WorkerCores.Count] : -1;
                workers.Add(new DeviceWorker<TWait>(config, model, estimator, _spot, wait, $"ll-{config.Name}-v{version}-w{workers.Count}", core, threading.IntraOpThreads));
            }
        }

        _workers = [.. workers];
        _core = new BatchScheduler(config, qos, estimator, _workers.Length, MonotonicClock.NowMicroseconds());
        _thread = new Thread(Loop) { Name = $"ll-{config.Name}-v{version}-sched", IsBackground = true };
        foreach (var w in _workers)
        {
            w.Start();
        }

        _thread.Start();
    }

    public int WorkerRestarts => _workers.Sum(w => w.Restarts);

    internal IDeviceWorker[] Workers => _workers;

    /// <summary>Lock-free: any request thread. Wakes the scheduler only if it is parked.</summary>
    public void Submit(InferenceRequest request)
    {
        request.ArrivalUs = MonotonicClock.NowMicroseconds();
        _submissions.Enqueue(request);
        _spot.Signal();
    }

    /// <summary>Refuses nothing already submitted: queued requests are batched at once, answered, then the threads end.</summary>
    public void Stop()
    {
        _stopping = true;
        _spot.Signal();
        _thread.Join();
        foreach (var w in _workers)
        {
            w.Stop();
        }
    }

    private void Loop()
    {
        ThreadTuning.UsePreciseTimers();
        while (true)
        {
            long now = MonotonicClock.NowMicroseconds();
            while (_submissions.TryDequeue(out var r))
            {
                _core.Admit(r, now);
            }

            _core.AdvanceTimers(now);
            bool stopping = _stopping;
            _core.Draining = stopping;
            long wake = _core.NextTimerUs;
            bool anyIdle = false, allIdle = true;
            foreach (var w in _workers)
            {
                if (!w.IsIdle)
                {
                    allIdle = false;
                    continue;
                }

                anyIdle = true;
                var decision = _core.TryTakeBatch(now, w.IdleSinceUs, w.BatchBuffer);
                if (!decision.Send)
                {
                    wake = Math.Min(wake, decision.WaitUntilUs);
                    break;
                }

                allIdle = false;
                w.Run(decision.Count);
            }

            if (allIdle)
            {
                _core.OnWorkerIdle(now, true);
            }

            if (stopping && allIdle && _core.Pending == 0 && _submissions.IsEmpty)
            {
                return;
            }

            _ = anyIdle;
            _wait.Wait(_spot, wake);
        }
    }

    public void Dispose()
    {
        foreach (var w in _workers)
        {
            w.Dispose();
        }

        _spot.Dispose();
    }
}

/// <summary>A model version's scheduler, whatever its wait strategy.</summary>
internal interface IModelScheduler : IDisposable
{
    int WorkerRestarts { get; }

    void Submit(InferenceRequest request);

    void Stop();
}

/// <summary>Thread settings for schedulers and workers.</summary>
public sealed record EngineThreading(WaitStrategyKind WaitStrategy, long SpinMicroseconds, IReadOnlyList<int> WorkerCores, int IntraOpThreads);
