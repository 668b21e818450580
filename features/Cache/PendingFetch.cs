namespace LowLatency.Features.Cache;

/// <summary>
/// A fetch of one row under way: every read that misses the same row while it runs waits for it
/// instead of asking the store again. <see cref="Invalidated"/> is set by a write that lands while
/// it runs: its answer may predate the write, so it is handed to the reads that waited for it but
/// not kept in the cache.
/// </summary>
internal sealed class PendingFetch(CacheKey key, byte[] buffer, object owner)
{
    private readonly TaskCompletionSource<CacheEntry> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CacheKey Key { get; } = key;

    /// <summary>Where the store copies the row: the cache entry's values once found.</summary>
    public byte[] Buffer { get; } = buffer;

    /// <summary>What identifies the read that claimed it.</summary>
    public object Owner { get; } = owner;

    public Task<CacheEntry> Task => _completion.Task;

    /// <summary>Set when the store could not be asked and a row fetched before is the answer.</summary>
    public bool ServedStale { get; set; }

    public volatile bool Invalidated;

    public void Complete(CacheEntry entry) => _completion.TrySetResult(entry);

    public void Fail(Exception e) => _completion.TrySetException(e);
}
