namespace LowLatency.Client;

/// <summary>
/// When a failed call is tried again: only where the request is known not to have run (the
/// connection was refused; the server answered 503 or 429, gRPC UNAVAILABLE or RESOURCE_EXHAUSTED),
/// at most <see cref="MaxAttempts"/> times in all, and never past the call's deadline. Between
/// attempts the client waits the server's <c>Retry-After</c> where it gave one, else an exponential
/// backoff with full jitter. A timeout after the request was sent, a 500, or a connection lost
/// mid-call are never retried: the model may have run.
/// </summary>
public sealed class RetryPolicy
{
    /// <summary>Three attempts, 10 ms initial backoff, at most 1 s between attempts, Retry-After honoured up to 10 s.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>One attempt: nothing is retried.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included (1: no retry).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The backoff's first ceiling; each retry doubles it up to <see cref="MaxBackoff"/>, and the wait is drawn uniformly below it.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The most the backoff waits between attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest <c>Retry-After</c> waited for; a server asking for more gets its error passed on at once.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait before attempt <paramref name="next"/> (2 or more).</summary>
    internal TimeSpan Delay(int next, TimeSpan? retryAfter)
    {
        double ceiling = Math.Min(MaxBackoff.TotalMilliseconds, InitialBackoff.TotalMilliseconds * Math.Pow(2, next - 2));
        double jitter = Random.Shared.NextDouble() * ceiling;
        // The server's Retry-After is a floor; the jitter on top spreads clients that were refused together.
        return retryAfter is { } after ? after + TimeSpan.FromMilliseconds(jitter) : TimeSpan.FromMilliseconds(jitter);
    }

    internal void Validate()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "at least one attempt");
        }

        if (InitialBackoff < TimeSpan.Zero || MaxBackoff < TimeSpan.Zero || MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialBackoff), "backoffs must not be negative");
        }
    }
}
