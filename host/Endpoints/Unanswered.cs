namespace LowLatency.Host.Endpoints;

/// <summary>
/// The requests that ended without their answer once shutdown had begun (their connection aborted:
/// by Kestrel at the drain deadline, or by the client), for the count shutdown logs beside the
/// requests still in progress (counted by the body budget, Memory.BodyBudget).
/// </summary>
internal sealed class Unanswered
{
    private long _cut;

    /// <summary>Requests that ended without their answer after shutdown began.</summary>
    public long Cut => Volatile.Read(ref _cut);

    /// <summary>Counts the request as cut when shutdown had begun (<paramref name="stopping"/>) and its connection was aborted.</summary>
    public void CountIfCut(HttpContext ctx, bool stopping)
    {
        if (stopping && ctx.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref _cut);
        }
    }
}
