using System.Threading.Tasks.Sources;

namespace LowLatency.Engine.Requests;

/// <summary>
/// Completion and pooling. Completion is an <see cref="IValueTaskSource{TResult}"/> on the pooled
/// request itself: no Task or TaskCompletionSource per request. The device thread never runs a
/// continuation: it queues the request itself (an <see cref="IThreadPoolWorkItem"/>) to the thread
/// pool, where the result is set and the awaiting ASP.NET code continues. Queuing the request rather
/// than letting the core run continuations asynchronously saves the work-item object the thread pool
/// would otherwise allocate for every completion.
/// </summary>
public sealed partial class InferenceRequest : IValueTaskSource<bool>, IThreadPoolWorkItem, IDisposable
{
    private bool _succeeded;

    private ManualResetValueTaskSourceCore<bool> _completion;
    private int _rented;

    public InferenceStatus Status { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Completes when the engine has answered; then <see cref="Status"/> and the outputs are set.</summary>
    public ValueTask<bool> Completion => new(this, _completion.Version);

    internal void Complete()
    {
        Succeed(Scheduling.MonotonicClock.NowMicroseconds());
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Records success at <paramref name="nowUs"/>; the caller publishes it (see <see cref="Scheduling.BatchCompletion"/>).</summary>
    internal void Succeed(long nowUs)
    {
        CompletedUs = nowUs;
        _succeeded = true;
    }

    internal void Fail(InferenceStatus status, string error)
    {
        Status = status;
        Error = error;
        CompletedUs = Scheduling.MonotonicClock.NowMicroseconds();
        _succeeded = false;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>On a thread-pool thread: publishes the result; the awaiting code continues here, inline.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        // A batch of one completes through here, not through BatchCompletion: its batch span too.
        if (Diagnostics.EngineTracing.Enabled && TraceContext != default && BatchTraceContext == default)
        {
            TraceAlone();
        }

        Publish();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void TraceAlone() => Diagnostics.EngineTracing.RecordBatch([this]);

    internal void Publish()
    {
        if (Model is not null)
        {
            Diagnostics.EngineMetrics.RecordRequest(this);
            if (MetricBatchRows > 0)
            {
                Diagnostics.EngineMetrics.RecordBatch(Model, MetricBatchRows);
            }

            Model.Health.Record(Status, CompletedUs - ArrivalUs);
            Model.OnAnswered();
        }

        _completion.SetResult(_succeeded);
    }

    /// <summary>Marks the request as handed out by the pool.</summary>
    internal void OnRent() => _rented = 1;

    bool IValueTaskSource<bool>.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// Returns the request to its model version's pool. Call once, after the completion was awaited
    /// (or when the request was never submitted); a second call does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, 0) == 0)
        {
            return;
        }

        ResetTensors();
        ResetScheduling();
        ResetLimits();
        Status = InferenceStatus.Ok;
        Error = null;
        _succeeded = false;
        _completion.Reset();
        Model?.ReturnRequest(this);
    }
}
