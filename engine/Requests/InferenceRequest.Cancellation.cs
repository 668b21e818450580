namespace LowLatency.Engine.Requests;

/// <summary>
/// Cancellation. <see cref="Cancel"/> runs on the caller's thread and never touches the scheduler's
/// queues or timers, which belong to whichever thread holds the scheduling step: it marks the
/// request with one compare-and-swap and hands it to its owner, whose scheduler pushes it onto a
/// lock-free list and runs (or wakes) the step. The step takes the list and does the rest: unlinks
/// a queued request, cancels its timers and answers it. The mark also says who may return the
/// request to its pool, since it sits on that list until the step has seen it.
/// </summary>
public sealed partial class InferenceRequest
{
    // The request's cancel, one word. NotCancelled; CancelListed: Cancel put it on its scheduler's
    // cancel list, and the step has not seen it yet; CancelSeen: the step took it off the list;
    // CancelDisposed: disposed while still listed, so the step, not Dispose, returns it to its pool.
    internal const int NotCancelled = 0, CancelListed = 1, CancelSeen = 2, CancelDisposed = 3;
    private int _cancel;

    /// <summary>The next request on the scheduler's cancel list: written by the cancelling thread before its push, read by the step after it took the list.</summary>
    internal InferenceRequest? CancelNext;

    /// <summary>Scheduler-thread state: taken in from the submission queue while its cancel was listed and not yet seen; it waits outside the queues for the step that sees it.</summary>
    internal bool CancelHeld;

    // CancelWhen's registration, kept on the pooled request rather than by the caller (whose async
    // state machine, allocated per request, would grow by it); disposed by Dispose.
    private CancellationTokenRegistration _cancelWhen;

    /// <summary>
    /// Cancels the request if it has not been taken into a batch: it leaves its queue at the
    /// scheduler's next step (which this call runs, or wakes) and is answered at once with
    /// <see cref="InferenceStatus.Cancelled"/>, without ever reaching the model. One cancelled before
    /// it is submitted is answered so when submitted. Once in a batch, running or answered, it
    /// completes as it would have. Any thread, any number of times (the first counts), until
    /// <see cref="Dispose"/>, which must not overlap it (<see cref="CancelWhen"/> sees to that);
    /// lock-free, and it allocates nothing.
    /// </summary>
    public void Cancel()
    {
        if (Volatile.Read(ref _cancel) == NotCancelled && Interlocked.CompareExchange(ref _cancel, CancelListed, NotCancelled) == NotCancelled)
        {
            // The full fence of the CAS orders the mark before the push: a step that takes the
            // request off the list, or from the submission queue after it, sees it marked.
            _owner?.OnCancelRequested(this);
        }
    }

    /// <summary>
    /// <see cref="Cancel"/>s the request when <paramref name="token"/> is cancelled (at once if it
    /// already is), until the request is disposed: a client's disconnect, or a call's cancellation.
    /// The caller's thread, once per use, typically right after submitting it when the answer is not
    /// there yet. A static callback with the request as its state: nothing is allocated beyond the
    /// registration node the token's source pools.
    /// </summary>
    public void CancelWhen(CancellationToken token) =>
        _cancelWhen = token.UnsafeRegister(static request => ((InferenceRequest)request!).Cancel(), this);

    /// <summary>
    /// In <see cref="Dispose"/>, first: ends <see cref="CancelWhen"/>'s registration, waiting for a
    /// Cancel it is running on another thread, so that no Cancel overlaps the resets.
    /// </summary>
    private void EndCancelWhen()
    {
        _cancelWhen.Dispose();
        _cancelWhen = default;
    }

    /// <summary>The request's cancel (<see cref="NotCancelled"/>, <see cref="CancelListed"/>, ...): the one check an uncancelled request pays, as the step takes it in.</summary>
    internal int CancelState => Volatile.Read(ref _cancel);

    /// <summary>By the step, for a request it took off its cancel list and answers itself (it was queued or held): no one else can answer or dispose it meanwhile.</summary>
    internal void MarkCancelSeen() => Volatile.Write(ref _cancel, CancelSeen);

    /// <summary>
    /// By the step, for a request it took off its cancel list and does not answer (still on its way
    /// in, whose intake answers it; or already in a batch or answered, for which the cancel comes too
    /// late): the last the step does with it, since from then on Dispose may return it to its pool.
    /// One disposed while listed was left to the step, and goes back to its pool here.
    /// </summary>
    internal void SeeCancel()
    {
        if (Interlocked.Exchange(ref _cancel, CancelSeen) == CancelDisposed)
        {
            _cancel = NotCancelled;
            _owner?.Return(this);
        }
    }

    /// <summary>
    /// In <see cref="Dispose"/>, after the resets: whether Dispose returns the request to its pool.
    /// Not while it is still on its scheduler's cancel list (the step would read it there after it
    /// was rented again): it is marked disposed instead, and the step returns it once it sees it.
    /// </summary>
    private bool ReleaseCancel()
    {
        if (Interlocked.CompareExchange(ref _cancel, CancelDisposed, CancelListed) == CancelListed)
        {
            return false;
        }

        // CancelSeen: the step is done with it, and nothing else writes the word now.
        _cancel = NotCancelled;
        return true;
    }
}
