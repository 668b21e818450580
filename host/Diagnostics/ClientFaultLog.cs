using System.Diagnostics;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// Requests that failed by the client's doing (a body that could not be read, a client gone before its
/// answer), logged at Debug and at most one line a second, with how many went unlogged since the last
/// line: any client can make them, so at a higher level, or one line each, they would let it flood the
/// log. They are counted in <c>lowlatency_host_responses</c> under their code.
/// </summary>
internal static partial class ClientFaultLog
{
    public const string Category = "LowLatency.Host.ClientFaults";

    // The Stopwatch timestamp before which lines are held back, and the faults held back since the last line.
    private static long _next;
    private static long _heldBack;

    /// <param name="route">Which route, in the server's own words (not the request's URL).</param>
    /// <param name="status">The status answered, or 499 for a client gone.</param>
    public static void Write(ILogger logger, string route, int status, string reason)
    {
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long next = Volatile.Read(ref _next);
        if (now < next || Interlocked.CompareExchange(ref _next, now + Stopwatch.Frequency, next) != next)
        {
            Interlocked.Increment(ref _heldBack);
            return;
        }

        Log(logger, route, status, reason, Interlocked.Exchange(ref _heldBack, 0));
    }

    // Event ids 1000 and up are the host's own lines (EngineLoader).
    [LoggerMessage(EventId = 1010, EventName = "ClientFault", Level = LogLevel.Debug, Message = "{Route}: {Status} {Reason} ({HeldBack} more since the last line)")]
    private static partial void Log(ILogger logger, string route, int status, string reason, long heldBack);
}
