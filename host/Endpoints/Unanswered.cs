namespace LowLatency.Host.Endpoints;

/// <summary>
/// The requests accepted and not answered, for the count shutdown logs: those still in progress when
/// it counts, and those that ended cut (their connection aborted: by Kestrel at the drain deadline,
/// or by the client) once shutdown had begun. Model loads and unloads are counted here; inference
/// requests also by the engine, which answers what it was given.
/// </summary>
internal sealed class Unanswered
{
    private long _inProgress;
    private long _cut;

    /// <summary>Requests begun and not ended.</summary>
    public long InProgress => Volatile.Read(ref _inProgress);

    /// <summary>Requests that ended without their answer after shutdown began.</summary>
    public long Cut => Volatile.Read(ref _cut);

    public void Begin() => Interlocked.Increment(ref _inProgress);

    /// <summary>The request ended; <paramref name="stopping"/>: shutdown had begun.</summary>
    public void End(HttpContext ctx, bool stopping)
    {
        Interlocked.Decrement(ref _inProgress);
        CountIfCut(ctx, stopping);
    }

    /// <summary>Counts the request as cut when shutdown had begun and its connection was aborted.</summary>
    public void CountIfCut(HttpContext ctx, bool stopping)
    {
        if (stopping && ctx.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref _cut);
        }
    }
}
