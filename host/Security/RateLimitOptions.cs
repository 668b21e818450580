namespace LowLatency.Host.Security;

/// <summary>A token bucket: sustained requests per second and the burst above it.</summary>
internal sealed class RateLimitOptions
{
    public double TokensPerSecond { get; set; }

    public int Burst { get; set; }

    public bool IsValid => TokensPerSecond > 0 && Burst >= 1;
}
