namespace LowLatency.Features.Definitions;

/// <summary>The near cache's bounds, from <c>feature_store.json</c>'s <c>near_cache</c>.</summary>
public sealed record NearCacheSettings
{
    /// <summary>Bytes of rows, keys and bookkeeping the cache holds at most; 0 turns it off.</summary>
    public long CapacityBytes { get; init; } = 64L << 20;

    /// <summary>
    /// How long a row fetched from the store is served without asking the store again. Writes
    /// through this server's push invalidate at once; this bounds how long a write by anyone else
    /// (another server, a batch job) goes unseen.
    /// </summary>
    public TimeSpan MaxStaleness { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long "not found" (and a row already past its view's max age) is remembered.</summary>
    public TimeSpan NotFoundTtl { get; init; } = TimeSpan.FromMilliseconds(100);
}
