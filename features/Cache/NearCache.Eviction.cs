using System.Collections.Concurrent;
using LowLatency.Features.Diagnostics;

namespace LowLatency.Features.Cache;

public sealed partial class NearCache
{
    // Every inserted entry joins the clock's queue once; retired entries leave it when the hand
    // reaches them.
    private readonly ConcurrentQueue<CacheEntry> _clock = new();
    private long _bytes;
    private int _count;
    private int _queued;
    private int _evicting;
    private long _evictions;

    private void Insert(CacheEntry entry, PendingFetch fetch, long now)
    {
        if (entry.Cost > _capacity)
        {
            return;
        }

        while (true)
        {
            if (_entries.TryGetValue(entry.Key, out var old))
            {
                if (_entries.TryUpdate(entry.Key, entry, old))
                {
                    Retire(old);
                    break;
                }
            }
            else if (_entries.TryAdd(entry.Key, entry))
            {
                break;
            }
        }

        Interlocked.Add(ref _bytes, entry.Cost);
        Interlocked.Increment(ref _count);
        _clock.Enqueue(entry);
        Interlocked.Increment(ref _queued);
        if (fetch.Invalidated)
        {
            Remove(entry);
        }

        if (Volatile.Read(ref _bytes) > _capacity || Volatile.Read(ref _queued) > (2 * Volatile.Read(ref _count)) + 1024)
        {
            Evict(now);
        }
    }

    private void Remove(CacheEntry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<CacheKey, CacheEntry>(entry.Key, entry)))
        {
            Retire(entry);
        }
    }

    private void Retire(CacheEntry entry)
    {
        if (Interlocked.Exchange(ref entry.Retired, 1) == 0)
        {
            Interlocked.Add(ref _bytes, -entry.Cost);
            Interlocked.Decrement(ref _count);
        }
    }

    // One thread at a time turns the clock: while over the bound, an entry expired or not hit since
    // the hand last passed is evicted, a hit one loses its mark and goes round again. Retired
    // entries are dropped from the queue as they come up, which also keeps the queue from growing
    // with rows that are invalidated and fetched again. At most two turns per call.
    private void Evict(long now)
    {
        if (Interlocked.CompareExchange(ref _evicting, 1, 0) != 0)
        {
            return;
        }

        int evicted = 0;
        try
        {
            for (int budget = (2 * Volatile.Read(ref _queued)) + 16; budget > 0; budget--)
            {
                bool over = Volatile.Read(ref _bytes) > _capacity;
                if ((!over && Volatile.Read(ref _queued) <= Volatile.Read(ref _count) + 1024) || !_clock.TryDequeue(out var entry))
                {
                    break;
                }

                Interlocked.Decrement(ref _queued);
                if (Volatile.Read(ref entry.Retired) != 0)
                {
                    continue;
                }

                if (over && (entry.ExpiresAt <= now || entry.Referenced == 0))
                {
                    Remove(entry);
                    evicted++;
                    continue;
                }

                if (over)
                {
                    entry.Referenced = 0;
                }

                _clock.Enqueue(entry);
                Interlocked.Increment(ref _queued);
            }
        }
        finally
        {
            Volatile.Write(ref _evicting, 0);
        }

        if (evicted != 0)
        {
            Interlocked.Add(ref _evictions, evicted);
            FeatureMetrics.RecordEvictions(evicted);
        }
    }
}
