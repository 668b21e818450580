using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Serving;

/// <summary>
/// Drives each autoscaled version (config.json's <c>autoscale</c>) off the request path: a timer
/// looks every 100 ms, and where a version's window has run its length, it decides with
/// <see cref="AutoscalePolicy"/> from the window's queue delays and busy time, counts the decision,
/// and applies an add or remove as the API would, on the loader thread (so it never interleaves with
/// a load or an API change). The window restarts after every decision, so the next one measures
/// the new count. Ticks never overlap: one still applying a change makes the next ones skip.
/// </summary>
internal sealed class Autoscaler : IDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);

    private readonly InferenceEngine _engine;
    private readonly IClock _clock;
    private readonly Action<EngineEvent>? _log;
    private readonly int _coresPerWorker;
    private readonly Dictionary<ModelVersion, Window> _windows = [];
    private readonly Timer _timer;
    private int _ticking;
    private volatile bool _stopped;

    public Autoscaler(InferenceEngine engine, IClock clock, int coresPerWorker, Action<EngineEvent>? log)
    {
        _engine = engine;
        _clock = clock;
        _coresPerWorker = Math.Max(1, coresPerWorker);
        _log = log;
        _timer = new Timer(_ => Tick(), null, Every, Every);
    }

    /// <summary>One version's current window: where it started, and the counters then.</summary>
    private sealed class Window(long startUs, long requests, long queueSumUs, long busyUs)
    {
        public long StartUs = startUs;
        public long Requests = requests;
        public long QueueSumUs = queueSumUs;
        public long BusyUs = busyUs;
        public long LastChangeUs = long.MinValue;
        public long LastOverTargetUs = long.MinValue;
    }

    private void Tick()
    {
        if (_stopped || Interlocked.Exchange(ref _ticking, 1) == 1)
        {
            return;
        }

        try
        {
            TickOnce();
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    private void TickOnce()
    {
        var served = new HashSet<ModelVersion>();
        int workers = 0;
        foreach (var model in _engine.Models)
        {
            foreach (var v in model.Versions.Values)
            {
                served.Add(v);
                workers += v.Instances;
            }
        }

        // Versions no longer served (reloaded, unloaded) are forgotten; a reload starts anew.
        foreach (var gone in _windows.Keys.Where(v => !served.Contains(v)).ToList())
        {
            _windows.Remove(gone);
        }

        int freeCores = Environment.ProcessorCount - (workers * _coresPerWorker);
        foreach (var v in served)
        {
            if (v.Config.Autoscale is not { } config || _stopped)
            {
                continue;
            }

            long now = _clock.NowMicroseconds;
            var (requests, queueSum) = v.QueueDelays;
            long busy = v.BusyMicroseconds;
            if (!_windows.TryGetValue(v, out var w))
            {
                _windows[v] = new Window(now, requests, queueSum, busy);
                continue;
            }

            long length = now - w.StartUs;
            if (length < (long)(config.WindowSeconds * 1_000_000))
            {
                continue;
            }

            long n = requests - w.Requests;
            int instances = v.Instances;
            double idle = Math.Clamp(1 - ((busy - w.BusyUs) / (double)(instances * length)), 0, 1);
            var observed = new AutoscaleObservation(now, length, n, n == 0 ? 0 : (queueSum - w.QueueSumUs) / (double)n, idle, instances, w.LastChangeUs, freeCores, w.LastOverTargetUs);
            var decision = AutoscalePolicy.Decide(observed, config);
            if (n > 0 && observed.MeanQueueDelayUs > config.TargetQueueDelayMicroseconds)
            {
                w.LastOverTargetUs = now;
            }
            EngineMetrics.RecordAutoscale(v, decision.Action);
            if (decision.Action != AutoscaleAction.Hold)
            {
                int to = instances + (decision.Action == AutoscaleAction.Add ? 1 : -1);
                _log?.Invoke(new(EngineEventKind.AutoscaleDecision, v.Config.Name, v.VersionString, $"model '{v.Config.Name}' version {v.VersionString}: autoscaler: {(decision.Action == AutoscaleAction.Add ? "add" : "remove")} an instance ({instances} -> {to}): {decision.Reason}"));
                var outcome = _engine.ApplyAutoscale(v, to).GetAwaiter().GetResult();
                if (!outcome.Succeeded)
                {
                    _log?.Invoke(new(EngineEventKind.AutoscaleDecision, v.Config.Name, v.VersionString, $"model '{v.Config.Name}' version {v.VersionString}: autoscaler: the change to {to} instances failed: {outcome.Error}", IsWarning: true));
                }

                w.LastChangeUs = _clock.NowMicroseconds;
                freeCores -= (v.Instances - instances) * _coresPerWorker;
            }

            // The next window measures the count now in force, from now.
            (requests, queueSum) = v.QueueDelays;
            w.StartUs = _clock.NowMicroseconds;
            w.Requests = requests;
            w.QueueSumUs = queueSum;
            w.BusyUs = v.BusyMicroseconds;
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _timer.Dispose();
    }
}
