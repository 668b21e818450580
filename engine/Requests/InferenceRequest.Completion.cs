using System.Threading.Tasks.Sources;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Requests;

/// <summary>
/// Completion and pooling. Completion is an <see cref="IValueTaskSource{TResult}"/> on the pooled
/// request itself: no Task or TaskCompletionSource per request. The device thread never runs a
/// continuation: it queues the request itself (an <see cref="IThreadPoolWorkItem"/>) to the thread
/// pool, where the result is set and the awaiting ASP.NET code continues. Queuing the request rather
/// than letting the core run continuations asynchronously saves the work-item object the thread pool
/// would otherwise allocate for every completion. A submitter that polls for its answer (answer
/// polling, in Scheduling) is handed it instead, and publishes it on its own thread.
/// </summary>
public sealed partial class InferenceRequest : IValueTaskSource<bool>, IThreadPoolWorkItem, IDisposable
{
    private bool _succeeded;

    private ManualResetValueTaskSourceCore<bool> _completion;
    private int _rented;

    // Who publishes the answer: NotPolled, the thread pool (the device thread queues it); Polled,
    // the submitter spinning for it (the device thread hands it over with one CAS to Answered).
    private const int NotPolled = 0, Polled = 1, Answered = 2;
    private int _poll;

    public InferenceStatus Status { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Completes when the engine has answered; then <see cref="Status"/> and the outputs are set.</summary>
    public ValueTask<bool> Completion => new(this, _completion.Version);

    internal void Complete()
    {
        Succeed(MonotonicClock.NowMicroseconds());
        if (!TryHandToPoller())
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>
    /// By a request thread that ran the request's batch itself (caller runs): published here, before
    /// the submitter awaits, so the await finds it complete and continues inline. A polling submitter
    /// (the same thread) is handed it as the device thread would, and publishes it as it polls.
    /// </summary>
    internal void CompleteOnThisThread()
    {
        Succeed(MonotonicClock.NowMicroseconds());
        if (!TryHandToPoller())
        {
            Publish();
        }
    }

    /// <summary>Before submitting: the submitter will spin for the answer (<see cref="PollUntil"/>) instead of awaiting it.</summary>
    internal void BeginPolling() => _poll = Polled;

    /// <summary>
    /// By the thread that answered the request: if its submitter is still spinning for the answer,
    /// hands it over (a full fence after the results were written); false when the thread pool
    /// must publish it.
    /// </summary>
    internal bool TryHandToPoller() => Volatile.Read(ref _poll) == Polled && Interlocked.CompareExchange(ref _poll, Answered, Polled) == Polled;

    /// <summary>Whether the answer was handed to the submitter polling for it (published on its thread).</summary>
    internal bool AnsweredToPoller => Volatile.Read(ref _poll) == Answered;

    /// <summary>Tells a spinning submitter to stop and await: the answer goes through the thread pool.</summary>
    internal void StopPoller() => Interlocked.CompareExchange(ref _poll, NotPolled, Polled);

    /// <summary>
    /// The submitter's spin for the answer, until <paramref name="deadlineUs"/>: when it comes in
    /// time it is published here, on the submitter's thread, and the completion is already complete
    /// when awaited (true). Otherwise the submitter gives up (one CAS; the device thread then queues
    /// the answer as usual) and awaits (false). Yields while it spins, so that a device worker
    /// sharing its core runs.
    /// </summary>
    internal bool PollUntil(long deadlineUs)
    {
        while (Volatile.Read(ref _poll) == Polled)
        {
            if (MonotonicClock.NowMicroseconds() >= deadlineUs && Interlocked.CompareExchange(ref _poll, NotPolled, Polled) == Polled)
            {
                return false;
            }

            // sched_yield, not a pause loop: with a pause loop, a device worker placed on this core
            // waited for the spin to end (docs/performance.md#answer-polling).

            Thread.Yield();
        }

        if (Volatile.Read(ref _poll) != Answered)
        {
            return false;
        }

        ((IThreadPoolWorkItem)this).Execute();
        return true;
    }

    /// <summary>Records success at <paramref name="nowUs"/>; the caller publishes it (a batch's completion hands it on).</summary>
    internal void Succeed(long nowUs)
    {
        CompletedUs = nowUs;
        _succeeded = true;
    }

    internal void Fail(InferenceStatus status, string error)
    {
        Status = status;
        Error = error;
        CompletedUs = MonotonicClock.NowMicroseconds();
        _succeeded = false;
        if (!TryHandToPoller())
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>On a thread-pool thread (or the polling submitter's): publishes the result; the awaiting code continues here, inline.</summary>
    void IThreadPoolWorkItem.Execute() => Publish();

    internal void Publish()
    {
        _owner?.OnAnswered(this);
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
    /// (or when the request was never submitted), and not while a <see cref="Cancel"/> of the
    /// caller's own is running (one that <see cref="CancelWhen"/> runs is waited for); a second call
    /// does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, 0) == 0)
        {
            return;
        }

        EndCancelWhen();
        ResetTensors();
        ResetScheduling();
        ResetLimits();
        Status = InferenceStatus.Ok;
        Error = null;
        _succeeded = false;
        _poll = NotPolled;
        _completion.Reset();
        // A request still on its scheduler's cancel list goes back to its pool from the step.
        if (_cancel != NotCancelled && !ReleaseCancel())
        {
            return;
        }

        _owner?.Return(this);
    }
}
