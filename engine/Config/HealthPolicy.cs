namespace LowLatency.Engine.Config;

/// <summary>
/// When a version counts as unhealthy (this server's <c>health</c> extension field). A version is
/// ejected when, over the last <see cref="WindowSeconds"/> and at least <see cref="MinRequests"/>
/// answers, its failure share exceeds <see cref="MaxErrorRate"/> or its p99 exceeds
/// <see cref="MaxP99LatencyMicroseconds"/> (0: latency is not judged). After
/// <see cref="CooldownSeconds"/> it gets <see cref="ProbePercent"/> % of its share back (half-open)
/// and is readmitted after <see cref="ProbeRequests"/> healthy answers, or ejected again.
/// </summary>
public sealed record HealthPolicy(
    bool Enabled,
    double MaxErrorRate,
    long MaxP99LatencyMicroseconds,
    int WindowSeconds,
    int MinRequests,
    int CooldownSeconds,
    int ProbePercent,
    int ProbeRequests)
{
    public static readonly HealthPolicy Default = new(true, 0.5, 0, 10, 20, 10, 5, 10);
}
