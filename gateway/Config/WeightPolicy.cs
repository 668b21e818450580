namespace LowLatency.Gateway.Config;

/// <summary>
/// How an alias's weights follow its backends' measurements (docs/gateway.md#dynamic-weights).
/// Defaults are what an Envoy outlier detector in front of Triton would start from, scaled to an
/// in-process router that re-weights every tick rather than every ten seconds.
/// </summary>
public sealed record WeightPolicy
{
    public static readonly WeightPolicy Default = new();

    /// <summary>A healthy backend's weight never falls below this share of its base weight.</summary>
    public double FloorPercent { get; init; } = 5;

    /// <summary>The sliding window the error rate is measured over.</summary>
    public double WindowSeconds { get; init; } = 2;

    /// <summary>How often weights are recomputed (off the request path).</summary>
    public double TickMilliseconds { get; init; } = 100;

    /// <summary>A backend up to this many times slower than the fastest keeps its whole base weight.</summary>
    public double LatencyTolerance { get; init; } = 1.5;

    /// <summary>An error rate over the window at or above this ejects the backend (weight 0).</summary>
    public double EjectErrorRate { get; init; } = 0.5;

    /// <summary>Fewer requests than this in the window say nothing about the error rate.</summary>
    public int MinRequests { get; init; } = 10;

    /// <summary>How long an ejected backend gets no traffic before it is probed.</summary>
    public double CooldownSeconds { get; init; } = 2;

    /// <summary>Answers a probed backend must give without the error rate reaching the ejection rate before it recovers.</summary>
    public int ProbeRequests { get; init; } = 3;

    internal int WindowTicks => Math.Max(1, (int)Math.Round(WindowSeconds * 1000 / TickMilliseconds));

    internal long CooldownMicroseconds => (long)(CooldownSeconds * 1_000_000);
}
