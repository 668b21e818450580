using StackExchange.Redis;

namespace LowLatency.Features.Store;

public sealed partial class RedisOnlineStore
{
    public async ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default)
    {
        if (written.Length < rows.Length)
        {
            throw new ArgumentException("one flag per row is needed", nameof(written));
        }

        cancellationToken.ThrowIfCancellationRequested();
        int per = _cluster ? 1 : PushScript.MaxRowsPerCall;
        int calls = (rows.Length + per - 1) / per;
        var tasks = new Task<RedisResult>[calls];
        try
        {
            var batch = _db.CreateBatch();
            for (int c = 0; c < calls; c++)
            {
                int first = c * per, count = Math.Min(per, rows.Length - first);
                var keys = new RedisKey[count];
                var values = new RedisValue[2 * count];
                for (int i = 0; i < count; i++)
                {
                    var row = rows.Span[first + i];
                    keys[i] = _keys.Key(row.View, row.Entity);
                    values[2 * i] = RowLayout.Encode(row.View, row.EventTimeMicros, row.Values.Span, row.Revision);
                    values[(2 * i) + 1] = (long)row.View.Ttl.TotalMilliseconds;
                }

                tasks[c] = batch.ScriptEvaluateAsync(PushScript.Text, keys, values);
            }

            batch.Execute();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            // Refused before anything was sent (no connection to a server).
            written.Span[..rows.Length].Clear();
            foreach (var t in tasks)
            {
                _ = t?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            throw new OnlineStoreUnavailableException(Name, $"none of {rows.Length} rows were written: {e.Message}", e);
        }

        // Every call is awaited before a failure is reported, so the caller knows the rows that were
        // written are; a retry rewrites nothing older.
        Exception? failure = null;
        int stored = 0, skipped = 0, failed = 0;
        for (int c = 0; c < calls; c++)
        {
            int first = c * per, count = Math.Min(per, rows.Length - first);
            try
            {
                var results = (RedisResult[])(await tasks[c].ConfigureAwait(false))!;
                for (int i = 0; i < count; i++)
                {
                    bool w = (long)results[i] == 1;
                    written.Span[first + i] = w;
                    stored += w ? 1 : 0;
                    skipped += w ? 0 : 1;
                }
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                written.Span.Slice(first, count).Clear();
                failure ??= e;
                failed += count;
            }
        }

        Diagnostics.FeatureMetrics.RecordPush(Name, stored, skipped);
        if (failure is not null)
        {
            throw new OnlineStoreUnavailableException(Name, $"{failed} of {rows.Length} rows were not written: {failure.Message}", failure);
        }
    }
}
