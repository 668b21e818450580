using System.Collections.Concurrent;
using LowLatency.Features.Definitions;
using LowLatency.Features.Diagnostics;
using LowLatency.Features.Store;

namespace LowLatency.Features.Cache;

/// <summary>
/// The near cache: rows the online store returned, kept in this process in front of it, as an
/// <see cref="IOnlineStore"/> itself.
/// <list type="bullet">
/// <item>A read that finds every row cached completes synchronously, copying each row into its
/// destination: no allocation, no lock (a dictionary lookup with a struct key per row).</item>
/// <item>A row is served until the earlier of <see cref="NearCacheSettings.MaxStaleness"/> after its
/// fetch and the moment it passes its view's max age; then it is fetched again, since the store may
/// hold a newer one. "Not found", and a row already past its max age, are remembered for
/// <see cref="NearCacheSettings.NotFoundTtl"/>.</item>
/// <item>The misses of one read are fetched in one store read; a read that misses a row another
/// read is fetching waits for that fetch (coalescing).</item>
/// <item>A write through <see cref="WriteAsync"/> drops the rows it wrote, and keeps a fetch under
/// way for one of them from being cached.</item>
/// <item>While the store cannot be reached, a row fetched before is served past its staleness
/// (never past its view's max age): counted as <see cref="NearCacheStatistics.StaleServed"/>.</item>
/// <item>Bounded in bytes (values plus <see cref="CacheEntry.Overhead"/> per row): past the bound a
/// clock (second chance) evicts, sparing rows hit since its hand last passed.</item>
/// </list>
/// </summary>
public sealed partial class NearCache : IOnlineStore, ICacheGauges, IDisposable
{
    private readonly IOnlineStore _inner;
    private readonly TimeProvider _time;
    private readonly long _capacity;
    private readonly long _maxStaleness;
    private readonly long _notFoundTtl;
    private readonly ConcurrentDictionary<CacheKey, CacheEntry> _entries = new();
    private readonly ConcurrentDictionary<CacheKey, PendingFetch> _pending = new();

    private long _hits;
    private long _misses;
    private long _coalesced;
    private long _fetches;
    private long _fetchedRows;
    private long _staleServed;

    public NearCache(IOnlineStore inner, NearCacheSettings settings, TimeProvider? time = null)
    {
        _inner = inner;
        _time = time ?? TimeProvider.System;
        _capacity = settings.CapacityBytes;
        _maxStaleness = Ticks(settings.MaxStaleness);
        _notFoundTtl = Ticks(settings.NotFoundTtl);
        FeatureMetrics.Register(this);
    }

    public long Bytes => Math.Max(0, Volatile.Read(ref _bytes));

    public int Entries => Math.Max(0, Volatile.Read(ref _count));

    public NearCacheStatistics Statistics => new(
        Volatile.Read(ref _hits), Volatile.Read(ref _misses), Volatile.Read(ref _coalesced), Volatile.Read(ref _fetches),
        Volatile.Read(ref _fetchedRows), Volatile.Read(ref _evictions), Volatile.Read(ref _staleServed), Bytes, Entries);

    public ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default)
    {
        if (_capacity == 0)
        {
            return _inner.ReadAsync(rows, cancellationToken);
        }

        var span = rows.Span;
        long now = _time.GetTimestamp();
        bool staleness = FeatureMetrics.StalenessEnabled;
        int hits = 0, misses = 0;
        for (int i = 0; i < span.Length; i++)
        {
            ref var row = ref span[i];
            if (row.State != RowState.Pending)
            {
                continue;
            }

            if (_entries.TryGetValue(new CacheKey(row.View, row.Entity), out var entry) && entry.ExpiresAt > now)
            {
                entry.Serve(ref row);
                if (entry.Referenced == 0)
                {
                    entry.Referenced = 1;
                }

                if (staleness)
                {
                    FeatureMetrics.RecordStaleness((long)_time.GetElapsedTime(entry.FetchedAt, now).TotalMicroseconds);
                }

                hits++;
            }
            else
            {
                misses++;
            }
        }

        if (hits != 0)
        {
            Interlocked.Add(ref _hits, hits);
        }

        FeatureMetrics.RecordLookups(hits, misses);
        return misses == 0 ? default : FetchAsync(rows, misses, cancellationToken);
    }

    /// <summary>Writes through to the store, then drops every written row (and any fetch of it under way) from the cache.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default)
    {
        try
        {
            await _inner.WriteAsync(rows, written, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also after a failure: some rows may have been written.
            for (int i = 0; i < rows.Length; i++)
            {
                Invalidate(rows.Span[i].View, rows.Span[i].Entity);
            }
        }
    }

    /// <summary>
    /// Drops a row. A fetch of it under way is marked first and the entry removed second; the fetch
    /// inserts its entry first and checks the mark second, so whichever runs last removes it.
    /// </summary>
    public void Invalidate(FeatureView view, EntityKey entity)
    {
        var key = new CacheKey(view, entity);
        if (_pending.TryGetValue(key, out var fetch))
        {
            fetch.Invalidated = true;
        }

        if (_entries.TryRemove(key, out var entry))
        {
            Retire(entry);
        }
    }

    public void Dispose() => FeatureMetrics.Unregister(this);

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
