using LowLatency.Features.Diagnostics;
using LowLatency.Features.Store;

namespace LowLatency.Features.Cache;

public sealed partial class NearCache
{
    // The miss path: claim a fetch for each missing row (or join one under way), fetch the claimed
    // rows in one store read, then serve every missing row from its fetch's answer.
    private async ValueTask FetchAsync(Memory<RowRead> rows, int misses, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _misses, misses);
        var waits = new (int Row, PendingFetch Fetch)[misses];
        var owned = new List<PendingFetch>();
        int w = 0, joined = 0;
        var span = rows.Span;
        for (int i = 0; i < span.Length; i++)
        {
            if (span[i].State != RowState.Pending)
            {
                continue;
            }

            var key = new CacheKey(span[i].View, span[i].Entity);
            PendingFetch? fetch;
            bool mine = false;
            while (!_pending.TryGetValue(key, out fetch))
            {
                var claim = new PendingFetch(key, new byte[key.View.RowBytes], owned);
                if (_pending.TryAdd(key, claim))
                {
                    (fetch, mine) = (claim, true);
                    owned.Add(claim);
                    break;
                }
            }

            // A row this read asked for twice waits for its own fetch; that is not coalescing.
            joined += mine || fetch.Owner == owned ? 0 : 1;
            waits[w++] = (i, fetch);
        }

        if (joined != 0)
        {
            Interlocked.Add(ref _coalesced, joined);
            FeatureMetrics.RecordCoalesced(joined);
        }

        if (owned.Count != 0)
        {
            // The fetch itself runs on (others may wait for it); this read stops waiting when its
            // caller does, and copies nothing after: each row is served from its fetch's own buffer.
            var fetching = FetchOwnedAsync(owned);
            if (cancellationToken.CanBeCanceled && !fetching.IsCompleted)
            {
                _ = fetching.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                await fetching.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await fetching.ConfigureAwait(false);
            }
        }

        for (int k = 0; k < w; k++)
        {
            var task = waits[k].Fetch.Task;
            var entry = task.IsCompletedSuccessfully ? task.Result
                : await (cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task).ConfigureAwait(false);
            if (waits[k].Fetch.ServedStale)
            {
                Interlocked.Increment(ref _staleServed);
            }

            entry.Serve(ref rows.Span[waits[k].Row]);
        }
    }

    // Runs without the caller's cancellation: other reads may be waiting for it, and the store's
    // own timeout bounds it.
    private async Task FetchOwnedAsync(List<PendingFetch> owned)
    {
        var reads = new RowRead[owned.Count];
        for (int k = 0; k < reads.Length; k++)
        {
            reads[k] = new RowRead(owned[k].Key.View, owned[k].Key.Entity, owned[k].Buffer);
        }

        Interlocked.Increment(ref _fetches);
        Interlocked.Add(ref _fetchedRows, reads.Length);
        try
        {
            await _inner.ReadAsync(reads, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            foreach (var fetch in owned)
            {
                _pending.TryRemove(new KeyValuePair<CacheKey, PendingFetch>(fetch.Key, fetch));
                fetch.Fail(e);
            }

            throw;
        }

        long now = _time.GetTimestamp();
        long wallMicros = EventTime.ToMicros(_time.GetUtcNow());
        int done = 0;
        try
        {
            for (; done < reads.Length; done++)
            {
                var fetch = owned[done];
                var entry = Answer(fetch, reads[done], now, wallMicros);
                if (entry.ExpiresAt > now)
                {
                    Insert(entry, fetch, now);
                }

                _pending.TryRemove(new KeyValuePair<CacheKey, PendingFetch>(fetch.Key, fetch));
                fetch.Complete(entry);
            }
        }
        catch (Exception e)
        {
            // Readers coalesced on the fetches not yet answered would otherwise wait for ever.
            for (int k = done; k < owned.Count; k++)
            {
                _pending.TryRemove(new KeyValuePair<CacheKey, PendingFetch>(owned[k].Key, owned[k]));
                owned[k].Fail(e);
            }

            throw;
        }
    }


    private CacheEntry Answer(PendingFetch fetch, RowRead read, long now, long wallMicros)
    {
        switch (read.State)
        {
            case RowState.Found:
                long ttl = (long)fetch.Key.View.Ttl.TotalMicroseconds;
                long untilMaxAge = ttl == 0 ? long.MaxValue : read.EventTimeMicros + ttl - wallMicros;
                long lifetime = untilMaxAge <= 0 ? _notFoundTtl : Math.Min(_maxStaleness, MicrosToTicks(untilMaxAge));
                return new CacheEntry(fetch.Key, fetch.Buffer, read.EventTimeMicros, now, now + lifetime);
            case RowState.NotFound:
                return new CacheEntry(fetch.Key, null, 0, now, now + _notFoundTtl);
            default:
                return Stale(fetch, wallMicros);
        }
    }

    // The store could not be asked: a row fetched before, still within its view's max age, is
    // better than none. It keeps its old expiry, so the next read asks the store again.
    private CacheEntry Stale(PendingFetch fetch, long wallMicros)
    {
        var key = fetch.Key;
        if (_entries.TryGetValue(key, out var old) && old.Values is not null)
        {
            long ttl = (long)key.View.Ttl.TotalMicroseconds;
            if (ttl == 0 || old.EventTimeMicros + ttl > wallMicros)
            {
                fetch.ServedStale = true;
                return old;
            }
        }

        return CacheEntry.Unavailable;
    }

    private long MicrosToTicks(long micros) =>
        micros >= long.MaxValue / 2 ? long.MaxValue / 4 : (long)(micros / 1e6 * _time.TimestampFrequency);
}
