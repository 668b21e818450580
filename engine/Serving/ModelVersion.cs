using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Serving;

/// <summary>One loaded version of a model: the TorchScript module, its scheduler, its device workers, its request pool.</summary>
public sealed class ModelVersion : IRequestOwner, IDisposable
{
    private const int PoolCapacity = 1024;

    private readonly TorchScriptModel _model;
    private readonly ISchedulerThread _scheduler;
    private readonly AnswerPolling _polling;
    private readonly ConcurrentQueue<InferenceRequest> _pool = new();
    private int _pooled;
    private int _entering;
    private int _inFlight;

    // Whether the previous submission found its request alone in flight too: a busy client's
    // request is alone only in the gap between two batches, which is not low load (answer polling).
    // A plain field: a hint, and a lost race only polls or not once.
    private bool _previousAlone;
    private volatile bool _stopped;
    private bool _retired;
    private IRequestMetricsSink? _metricsSink;
    private int _disposed;

    // Cancels on their way into the scheduler, and whether it is about to be freed: Dispose frees
    // it only once no cancel can reach it (a client may go away at any time, even after shutdown).
    private int _cancelling;
    private volatile bool _schedulerGone;

    // One reference belongs to the routing table that publishes this version; each request routed to
    // it holds another from routing until its response is written. Retiring drops the table's; the
    // last release disposes the version. A count that reached 0 never rises again (TryAcquire).
    private int _references = 1;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ModelVersion(ModelConfig config, long version, TorchScriptModel model, EngineThreading threading, EngineServices services)
    {
        _config = config;
        _autoscaled = config.Autoscale is not null;
        Version = version;
        VersionString = version.ToString(CultureInfo.InvariantCulture);
        _model = model;
        _polling = threading.AnswerPolling;
        Estimator = new ComputeEstimator(config.MaxBatchSize);
        Limits = services.Limits;
        Health = new VersionHealth(config.Health, services.Clock, services.Epoch, (h, state) => EngineMetrics.RecordTransition(this, state));
        IBatchRunner Runner() => services.WrapRunner is { } wrap ? wrap(this, new BatchExecutor(config, model)) : new BatchExecutor(config, model);
        _scheduler = threading.WaitStrategy switch
        {
            WaitStrategyKind.Spin => new SchedulerThread<SpinWaitStrategy>(config, version, Runner, Estimator, config.Qos, threading, default),
            WaitStrategyKind.Park => new SchedulerThread<ParkWaitStrategy>(config, version, Runner, Estimator, config.Qos, threading, default),
            _ => new SchedulerThread<SpinThenParkWaitStrategy>(config, version, Runner, Estimator, config.Qos, threading, new SpinThenParkWaitStrategy(threading.SpinMicroseconds)),
        };
        EngineMetrics.Register(this);
    }

    // Replaced whole when an instance count changes at run time (SetInstances); nothing else in it changes.
    private volatile ModelConfig _config;

    // Serializes instance changes with each other and with Stop.
    private readonly object _instancesLock = new();

    public ModelConfig Config => _config;

    /// <summary>Device workers that take batches now (every instance group's).</summary>
    public int Instances => _scheduler.WorkerCount;

    /// <summary>Time every worker of this version spent running batches (µs).</summary>
    internal long BusyMicroseconds => _scheduler.BusyMicroseconds;

    // Answered requests and their summed queue delay, for the autoscaler: kept only when it runs.
    private readonly bool _autoscaled;
    private long _queueDelaySumUs;
    private long _queueDelayCount;

    /// <summary>Requests answered so far and their summed queue delay (µs); zero unless the model autoscales.</summary>
    internal (long Count, long SumUs) QueueDelays => (Volatile.Read(ref _queueDelayCount), Volatile.Read(ref _queueDelaySumUs));

    /// <summary>The file the module was read from, and its size and time then (a poll reloads on change).</summary>
    public string File => _model.Path;

    internal string FileStamp { get; init; } = string.Empty;

    /// <summary>The configuration text the version was loaded with.</summary>
    internal string ConfigText { get; init; } = string.Empty;

    public long Version { get; }

    public string VersionString { get; }

    /// <summary>The server's bounds on a request to this version.</summary>
    internal RequestLimits Limits { get; }

    /// <summary>The version's circuit breaker: its answers, judged against the model's health policy.</summary>
    public VersionHealth Health { get; }

    /// <summary>Live execution-time estimates per batch size.</summary>
    internal ComputeEstimator Estimator { get; }

    /// <summary>Requests queued and not yet handed to a worker, as of the last scheduling step.</summary>
    public int QueueDepth => _scheduler.QueueDepth;

    /// <summary>Requests submitted and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Device worker threads that died and were replaced.</summary>
    public int WorkerRestarts => _scheduler.WorkerRestarts;

    /// <summary>How far ahead of a batching window's end an idle worker of this version is woken (µs; measured, see WakeLead).</summary>
    public int WakeLeadMicroseconds => (int)_scheduler.Lead.Microseconds;

    internal ISchedulerThread Scheduler => _scheduler;

    /// <summary>Native handles this version holds (module, arenas, cached views, outputs still read).</summary>
    internal NativeHandleCount Handles => _model.Handles;

    /// <summary>Completes once the version is retired and disposed: every routed request answered and released.</summary>
    public Task Released => _released.Task;

    /// <summary>
    /// Takes a reference for one request routed here. False once the version is retired and its
    /// last request is gone: the caller routes again on the newer table, which no longer holds it.
    /// </summary>
    public bool TryAcquire()
    {
        int n = Volatile.Read(ref _references);
        while (n > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, n + 1, n);
            if (seen == n)
            {
                return true;
            }

            n = seen;
        }

        return false;
    }

    /// <summary>Gives back a reference taken by <see cref="TryAcquire"/>.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            // The last user may be a request thread: joining the worker threads is not its job.
            ThreadPool.UnsafeQueueUserWorkItem(static v => v.DisposeRetired(), this, preferLocal: false);
        }
    }

    /// <summary>
    /// Called once, after a routing table without this version was published: requests already
    /// routed here finish here, then the version stops and frees its native memory.
    /// </summary>
    internal void Retire()
    {
        Volatile.Write(ref _retired, true);
        Release();
    }

    /// <summary>Out of routing (a newer load or an unload replaced it), finishing what it holds.</summary>
    internal bool IsRetired => Volatile.Read(ref _retired);

    /// <summary>This version's sink of the process's metrics exporter, bound on first use; null while there is none.</summary>
    internal IRequestMetricsSink? MetricsSink => _metricsSink ??= EngineMetrics.SinkFor(this);

    private void DisposeRetired()
    {
        try
        {
            Dispose();
        }
        finally
        {
            _released.TrySetResult();
        }
    }

    /// <summary>Requests in the pool, given back and not handed out again.</summary>
    internal int PooledRequests => Volatile.Read(ref _pooled);

    /// <summary>A request from this version's pool (or a new one); dispose it to give it back.</summary>
    public InferenceRequest RentRequest()
    {
        if (_pool.TryDequeue(out var r))
        {
            Interlocked.Decrement(ref _pooled);
        }
        else
        {
            r = new InferenceRequest(Config, VersionString, Limits, this);
        }

        r.OnRent();
        return r;
    }

    void IRequestOwner.Return(InferenceRequest r)
    {
        if (Interlocked.Increment(ref _pooled) <= PoolCapacity)
        {
            _pool.Enqueue(r);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }

    /// <summary>
    /// Any thread, once per cancelled request. Counted in and out, as submitters are, so that the
    /// scheduler is not freed under it: a Dekker pair with Dispose (each side writes, then a full
    /// fence, then reads the other's word), so either this call sees the scheduler gone or Dispose
    /// waits for it. A stopped scheduler has answered every request it took, and takes the
    /// cancel in harmlessly.
    /// </summary>
    void IRequestOwner.OnCancelRequested(InferenceRequest r)
    {
        Interlocked.Increment(ref _cancelling);
        if (!_schedulerGone)
        {
            _scheduler.Cancel(r);
        }
        else
        {
            // No step will take it off a list it was never put on: seen now, so that Dispose, not
            // a step, returns it to its pool.
            r.SeeCancel();
        }

        Interlocked.Decrement(ref _cancelling);

    }

    /// <summary>
    /// Once per submitted request, as its answer is published (on the thread pool, or the polling
    /// submitter's thread): its spans when it ran alone (a batch's completion records a batch's),
    /// its metrics and the version's health (not for warm-up's own), and one less in flight.
    /// </summary>
    void IRequestOwner.OnAnswered(InferenceRequest r)
    {
        if (EngineTracing.Enabled && r.TraceContext != default && r.BatchTraceContext == default)
        {
            TraceAlone(r);
        }

        if (!r.IsWarmUp)
        {
            EngineMetrics.RecordRequest(this, r);
            if (r.MetricBatchRows > 0)
            {
                EngineMetrics.RecordBatch(this, r.MetricBatchRows, r.ComputeMicroseconds);
            }

            Health.Record(r.Status, r.CompletedUs - r.ArrivalUs);
            if (_autoscaled)
            {
                Interlocked.Add(ref _queueDelaySumUs, r.QueueMicroseconds);
                Interlocked.Increment(ref _queueDelayCount);
            }
        }

        Interlocked.Decrement(ref _inFlight);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TraceAlone(InferenceRequest r) => EngineTracing.RecordBatch([r]);

    /// <summary>
    /// Validates and submits the request; completes when it is answered. Throws
    /// <see cref="InferenceException"/> for a request that fails validation, or once the version is stopping.
    /// <paramref name="pollWhenAlone"/>: the caller awaits the answer at once and has nothing else
    /// to submit meanwhile (one request per call, as the HTTP endpoint). Then, when the request is
    /// alone in flight, as the one submitted before it was, and the engine's
    /// <see cref="AnswerPolling"/> allows it, this call spins for the answer on the calling thread
    /// (up to <c>AnswerPollMicroseconds</c>) and usually returns it completed. A caller that
    /// submits several requests before awaiting them must not ask for it: it would wait for the
    /// first answer before submitting the next, and they would not batch.
    /// </summary>
    public ValueTask<bool> InferAsync(InferenceRequest request, bool pollWhenAlone = false)
    {
        request.Validate();
        // Counting submitters in flight lets Stop wait for every accepted request to reach the
        // scheduler's queue before telling it to drain: none is lost, and no lock is taken.
        Interlocked.Increment(ref _entering);
        if (_stopped)
        {
            Interlocked.Decrement(ref _entering);
            ThrowUnavailable();
        }

        var completion = request.Completion;
        bool alone = Interlocked.Increment(ref _inFlight) == 1;
        // With polling off (the default), nothing more on the submission path.
        bool poll = _polling.BudgetMicroseconds > 0 && TakesPoll(alone, pollWhenAlone, request);
        if (poll)
        {
            request.BeginPolling();
        }

        _scheduler.Submit(request);
        Interlocked.Decrement(ref _entering);
        if (poll)
        {
            request.PollUntil(MonotonicClock.NowMicroseconds() + _polling.BudgetMicroseconds);
            _polling.Exit();
        }

        return completion;
    }

    /// <summary>
    /// Whether the submitter of this request spins for its answer (see <see cref="AnswerPolling"/>):
    /// it asked; it is alone in flight, as the one submitted before it was (every submission counts
    /// for that, asking or not); it is dispatched at once (no batching window for its class); its
    /// batch is estimated to be done within the budget (not before anything was measured); and a
    /// poller's place is free.
    /// </summary>
    private bool TakesPoll(bool alone, bool asked, InferenceRequest request)
    {
        bool streak = alone && _previousAlone;
        _previousAlone = alone;
        return asked && streak && WorthPolling(request) && _polling.TryEnter();
    }

    private bool WorthPolling(InferenceRequest request)
    {
        long estimate = Estimator.Estimate(request.BatchSize);
        if (estimate == 0 || estimate > _polling.BudgetMicroseconds)
        {
            return false;
        }

        long window = request.Qos != QosClass.None ? Config.Qos.For(request.Qos).WindowMicroseconds
            : Config.Batched ? Config.DynamicBatching?.MaxQueueDelayMicroseconds ?? 0 : 0;
        return window == 0;
    }

    /// <summary>
    /// Runs requests of ones (a valid token id and an attention mask that attends, for the text
    /// models; a plain input elsewhere) at every batch-size bucket (1, each preferred size and
    /// <c>max_batch_size</c>), three rounds, so the first real request of any size is not the slow
    /// one, and a model that cannot run at all (or returns the wrong shapes) fails at load, not at
    /// the first request. TorchScript's profiling executor optimises during the first calls,
    /// which take up to hundreds of times longer: the estimates admission control uses are reset
    /// before the last round, so they start from steady-state measurements. Its requests are not
    /// counted in the metrics or the version's health (<see cref="InferenceRequest.MarkWarmUp"/>).
    /// </summary>
    internal void WarmUp(CancellationToken abandon = default)
    {
        const int Rounds = 3;
        for (int round = 0; round < Rounds; round++)
        {
            if (round == Rounds - 1)
            {
                Estimator.Reset();
            }

            foreach (int rows in WarmUpSizes(Config))
            {
                // Shutdown does not wait for a whole warm-up: one batch at most.
                abandon.ThrowIfCancellationRequested();
                WarmUpAt(rows);
            }
        }
    }

    /// <summary>The batch sizes warm-up runs: 1, the preferred sizes and the largest, ascending.</summary>
    internal static SortedSet<int> WarmUpSizes(ModelConfig config)
    {
        var sizes = new SortedSet<int> { 1 };
        if (config.MaxBatchSize > 1)
        {
            sizes.Add(config.MaxBatchSize);
            foreach (int p in config.DynamicBatching?.PreferredBatchSize ?? [])
            {
                sizes.Add(p);
            }
        }

        return sizes;
    }

    private void WarmUpAt(int rows)
    {
        using var request = WarmUpRequest(rows);
        var done = InferAsync(request).AsTask().GetAwaiter().GetResult();
        // Only the model's own failure counts: the first calls may miss the QoS deadline while
        // TorchScript's profiling executor optimises, and that is what warm-up is for.
        if (!done && request.Status == InferenceStatus.ModelError)
        {
            throw new ModelConfigException(_model.Path, $"warm-up at batch size {rows} with inputs of ones failed: {request.Error}");
        }
    }

    /// <summary>A request of ones at <paramref name="rows"/> rows, marked warm-up (not counted in metrics or health).</summary>
    private InferenceRequest WarmUpRequest(int rows)
    {
        var request = RentRequest();
        request.MarkWarmUp();
        var shape = new List<long>();
        for (int i = 0; i < Config.Inputs.Count; i++)
        {
            shape.Clear();
            if (Config.Batched)
            {
                shape.Add(rows);
            }

            foreach (var d in Config.Inputs[i].Dims)
            {
                shape.Add(d < 0 ? 1 : d);
            }

            FillOnes(request.AddInput(i, Config.Inputs[i].DataType, shape.ToArray()), Config.Inputs[i].DataType);
        }

        return request;
    }

    private static void FillOnes(Span<byte> data, TensorDataType type)
    {
        Span<byte> one = stackalloc byte[8];
        one.Clear();
        switch (type)
        {
            case TensorDataType.FP16:
                MemoryMarshal.Write(one, (Half)1);
                break;
            case TensorDataType.BF16:
                MemoryMarshal.Write(one, (ushort)0x3F80);
                break;
            case TensorDataType.FP32:
                MemoryMarshal.Write(one, 1f);
                break;
            case TensorDataType.FP64:
                MemoryMarshal.Write(one, 1d);
                break;
            default:
                one[0] = 1;
                break;
        }

        int size = type.ElementSize();
        for (int i = 0; i + size <= data.Length; i += size)
        {
            one[..size].CopyTo(data[i..]);
        }
    }

    /// <summary>Refuses new requests, answers every accepted one, then stops the threads.</summary>
    public void Stop()
    {
        // After an instance change in progress: its worker is then published (stopped with the
        // others) or retired.
        lock (_instancesLock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        EngineMetrics.Unregister(this);
        var spin = default(SpinWait);
        while (Volatile.Read(ref _entering) != 0)
        {
            spin.SpinOnce();
        }

        _scheduler.Stop();
    }

    /// <summary>
    /// Sets instance group <paramref name="group"/> to <paramref name="count"/> device workers while
    /// requests flow, off the request path (the loader thread). An added worker gets its own arenas
    /// and thread, runs the warm-up a load runs (every batch-size bucket, three rounds) on that
    /// thread, and only then is published to the scheduling step. A removed one is unpublished
    /// first (no new batch), finishes the batch it holds, and once no answer still reads its outputs
    /// its thread has ended and its native memory is freed. One worker at a time, so that the
    /// version always has at least as many workers as the smaller of the two counts.
    /// </summary>
    internal RepositoryOutcome SetInstances(int group, int count, Action<int>? changed = null)
    {
        lock (_instancesLock)
        {
            if (_stopped)
            {
                return new RepositoryOutcome(503, $"model '{Config.Name}' version {VersionString} is shutting down");
            }

            int current = Config.InstanceGroups[group].Count;
            while (current < count)
            {
                var worker = _scheduler.NewWorker(group, current);
                worker.Warming = true;
                try
                {
                    WarmUpWorker(worker);
                }
                catch (ModelConfigException e)
                {
                    _scheduler.Retire(worker);
                    return new RepositoryOutcome(500, $"model '{Config.Name}' version {VersionString}: a new instance failed its warm-up, {current} serve on: {e.Message}");
                }

                // Before publication: the step's hand-over of each later batch orders it before the
                // worker reads it, so every batch after this one is timed.
                worker.Warming = false;
                _scheduler.Publish(worker);
                _config = InstanceCounts.With(Config, group, ++current);
                changed?.Invoke(current);
            }

            while (current > count)
            {
                var worker = _scheduler.Unpublish(group);
                if (worker is null)
                {
                    break;
                }

                _config = InstanceCounts.With(Config, group, --current);
                _scheduler.Retire(worker);
                changed?.Invoke(current);
            }

            return RepositoryOutcome.Ok;
        }
    }

    /// <summary>
    /// The load's warm-up, on one worker no step can reach yet: each request is handed to it
    /// directly, as a step would, and awaited. Counted in flight as any submission (its answer
    /// counts it out), and never in metrics or health.
    /// </summary>
    private void WarmUpWorker(IDeviceWorker worker)
    {
        const int Rounds = 3;
        for (int round = 0; round < Rounds; round++)
        {
            foreach (int rows in WarmUpSizes(Config))
            {
                using var request = WarmUpRequest(rows);
                request.Validate();
                request.ArrivalUs = MonotonicClock.NowMicroseconds();
                var completion = request.Completion;
                Interlocked.Increment(ref _inFlight);
                worker.BatchBuffer[0] = request;
                worker.Run(1);
                worker.Wake();
                bool done = completion.AsTask().GetAwaiter().GetResult();
                if (!done && request.Status == InferenceStatus.ModelError)
                {
                    throw new ModelConfigException(_model.Path, $"warm-up at batch size {rows} with inputs of ones failed: {request.Error}");
                }
            }
        }
    }

    public void Dispose()
    {
        // Twice is possible: the engine's shutdown and a retired version's last release.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stop();
        _schedulerGone = true;
        Interlocked.MemoryBarrier();
        var spin = default(SpinWait);
        while (Volatile.Read(ref _cancelling) != 0)
        {
            spin.SpinOnce();
        }

        _scheduler.Dispose();
        _model.Dispose();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnavailable() => throw new InferenceException(InferenceStatus.Unavailable, $"model '{Config.Name}' version {VersionString} is shutting down");
}
