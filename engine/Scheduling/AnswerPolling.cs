namespace LowLatency.Engine.Scheduling;

/// <summary>
/// When a submitter spins for its own answer instead of awaiting it (setting
/// <c>LowLatency:AnswerPollMicroseconds</c>, off by default). Awaiting costs a hand-off through the
/// thread pool: the device thread queues the answer and a pool thread — a spinning one, or one woken
/// from sleep on an idle core — publishes it and runs the continuation. At low load that hop is most
/// of what a request waits beside the model, and the pool threads spinning for it take the device
/// worker's core when it yields. A
/// request whose caller asked for it, alone in flight on its model version, dispatched at once (no
/// batching window) and expected to be answered within the budget, is instead polled for by its
/// submitter: the device thread hands the answer over with one CAS and the submitter continues on
/// its own thread. Engine-wide at most <see cref="MaxPollers"/> submitters spin at once (half the
/// cores), so that pollers never hold every core. What it gains and why it is off by default:
/// docs/performance.md#answer-polling.

/// </summary>
internal sealed class AnswerPolling(long budgetMicroseconds, int maxPollers)
{
    private int _polling;

    /// <summary>Nobody polls: every answer goes through the thread pool.</summary>
    public static AnswerPolling Off { get; } = new(0, 0);

    /// <summary>How long a submitter spins for its answer at most; a request whose batch is estimated to take longer is not polled for.</summary>
    public long BudgetMicroseconds { get; } = budgetMicroseconds;

    public int MaxPollers { get; } = maxPollers;

    /// <summary>Takes one of the <see cref="MaxPollers"/> places; false when all are taken (or polling is off).</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _polling) <= MaxPollers)
        {
            return true;
        }

        Interlocked.Decrement(ref _polling);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _polling);
}
