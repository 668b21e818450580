namespace LowLatency.Host;

/// <summary>HTTP-side settings, bound from the <c>LowLatency</c> configuration section.</summary>
internal sealed class ServerOptions
{
    /// <summary>Largest request body accepted; larger ones get 413 before they are read whole.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L << 20;

    /// <summary>
    /// The most bytes of request bodies held at once, over all requests (<see cref="Memory.BodyBudget"/>);
    /// a body past it gets 503 with Retry-After. Unset: <see cref="BodyBudgetBytes"/>.
    /// </summary>
    public long? MaxBufferedRequestBodyBytes { get; set; }

    /// <summary>
    /// The body budget in force: the setting, or an eighth of the memory the GC sees as available to
    /// the process (the machine's, or its container's limit), and at least one maximum-size body.
    /// </summary>
    public long BodyBudgetBytes => MaxBufferedRequestBodyBytes
        ?? Math.Min(Memory.BodyBudget.MaxLimit, Math.Max(MaxRequestBodyBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8));

    /// <summary>
    /// After a burst of at least this many bytes (allocated within half a second, or held in request
    /// bodies at once), once it is over, one collection gives its memory back to the system
    /// (<see cref="Memory.MemoryTrim"/>). 0: never (and Kestrel's spare blocks stay for reuse).
    /// </summary>
    public long TrimAfterBurstBytes { get; set; } = 64L << 20;

    /// <summary>
    /// On SIGTERM, after the drain delay, how long accepted requests (inference, loads and unloads)
    /// may take to be answered before the process stops anyway.
    /// </summary>
    public double DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// On SIGTERM, how long to keep answering (503 "shutting down", readiness false) before Kestrel
    /// stops accepting connections. Behind a load balancer set it to the health-check interval
    /// (a few seconds): until the balancer has seen the instance unready it still sends requests,
    /// and once Kestrel stops accepting, a request on a kept-alive connection is cut off rather than
    /// refused with a 503 it can retry elsewhere.
    /// </summary>
    public double DrainDelaySeconds { get; set; }

    /// <summary>
    /// From SIGTERM to the moment the process stops waiting: the drain delay, then the drain timeout.
    /// It bounds the whole shutdown (the host's shutdown timeout); what is left then is cut.
    /// </summary>
    /// Past a timer's range (49 days) it is infinite: the process waits as long as requests take.
    public TimeSpan DrainDeadline => DrainDelaySeconds + DrainTimeoutSeconds is var s && s < MaxTimerSeconds ? TimeSpan.FromSeconds(s) : Timeout.InfiniteTimeSpan;

    private const double MaxTimerSeconds = (uint.MaxValue - 1) / 1000.0;

    /// <summary>
    /// How long before the deadline an answer that would otherwise be cut (a load still running) is
    /// given instead: long enough for Kestrel to write a small answer, a small part of the drain.
    /// </summary>
    public TimeSpan AnswerMargin => TimeSpan.FromSeconds(Math.Min(1, DrainTimeoutSeconds / 4));

    /// <summary>Serve unauthenticated clients on addresses other than loopback (refused at start otherwise).</summary>
    public bool AllowInsecure { get; set; }

    /// <summary>
    /// Bind the TCP listeners with SO_REUSEPORT (Linux only), so that a new server process can bind the
    /// same URLs beside this one (<see cref="ReusePort"/>). Off: any process of the same user could
    /// otherwise bind the port too and take a share of the connections.
    /// </summary>
    public bool ReusePort { get; set; }

    /// <summary>
    /// Where the serving process writes its pid, for a replacement on the same port (<see cref="Handover"/>):
    /// once ready, a new process asks the one named there to leave (SIGUSR2) and takes its place.
    /// Unset: no pid file, and no process is replaced.
    /// </summary>
    public string? PidFile { get; set; }

    /// <summary>
    /// When asked to leave (SIGUSR2, <see cref="Handover"/>), how long at most to wait, before Kestrel
    /// stops, for the open connections to close: every answer closes its connection (200s, not 503s),
    /// so clients that keep connections alive move to the new process on their next answer, rather
    /// than sending a request on an idle connection just as Kestrel closes it. Past it, what is left
    /// (clients that sent nothing meanwhile) is closed.
    /// </summary>
    public double LeaveTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// The feature repository folder (docs/features.md), read at start-up and served on Feast's routes
    /// (<c>/get-online-features</c>, <c>/push</c>). Unset or empty: no feature store, and those routes
    /// answer 404 saying so. A relative path resolves against the working directory, as the model repository's.
    /// </summary>
    public string? FeatureRepository { get; set; }

    /// <summary>What is wrong with these settings, one line each naming the setting (empty when nothing is).</summary>
    public IEnumerable<string> Problems()
    {
        if (LeaveTimeoutSeconds is < 0 or > 3600 || double.IsNaN(LeaveTimeoutSeconds))
        {
            yield return $"LowLatency:LeaveTimeoutSeconds must be from 0 to 3600, not {LeaveTimeoutSeconds}";
        }

        if (ReusePort && !OperatingSystem.IsLinux())
        {
            yield return "LowLatency:ReusePort is for Linux, whose SO_REUSEPORT spreads connections over the processes bound; elsewhere leave it unset";
        }

        if (MaxRequestBodyBytes < 1)
        {
            yield return $"LowLatency:MaxRequestBodyBytes must be 1 or more, not {MaxRequestBodyBytes}";
        }

        if (MaxBufferedRequestBodyBytes is { } budget && (budget < MaxRequestBodyBytes || budget > Memory.BodyBudget.MaxLimit))
        {
            // Below one maximum-size body, a body the server accepts could never be admitted.
            yield return $"LowLatency:MaxBufferedRequestBodyBytes must be at least LowLatency:MaxRequestBodyBytes ({MaxRequestBodyBytes}) and at most {Memory.BodyBudget.MaxLimit}, not {budget}";
        }

        if (TrimAfterBurstBytes < 0)
        {
            yield return $"LowLatency:TrimAfterBurstBytes must be 0 (off) or more, not {TrimAfterBurstBytes}";
        }

        // Negative: the host's shutdown timer throws when SIGTERM comes, after serving all along.
        if (!(DrainTimeoutSeconds >= 0))
        {
            yield return $"LowLatency:DrainTimeoutSeconds must be 0 or more, not {DrainTimeoutSeconds}";
        }

        if (!(DrainDelaySeconds >= 0))
        {
            yield return $"LowLatency:DrainDelaySeconds must be 0 or more, not {DrainDelaySeconds}";
        }
    }
}
