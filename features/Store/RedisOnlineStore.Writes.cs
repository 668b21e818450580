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
        var keys = new RedisKey[rows.Length];
        var values = new RedisValue[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            var row = rows.Span[i];
            keys[i] = _keys.Key(row.View, row.Entity);
            values[i] = [RowLayout.Encode(row.View, row.EventTimeMicros, row.Values.Span, row.Revision), (long)row.View.Ttl.TotalMilliseconds];
        }

        var tasks = new Task<RedisResult>[rows.Length];
        try
        {
            var batch = _db.CreateBatch();
            for (int i = 0; i < rows.Length; i++)
            {
                tasks[i] = batch.ScriptEvaluateAsync(PushScript.Text, [keys[i]], values[i]);
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

        // Every row is awaited before a failure is reported, so the caller knows the rows that were
        // written are; a retry rewrites nothing older.
        Exception? failure = null;
        int stored = 0, skipped = 0, failed = 0;
        for (int i = 0; i < tasks.Length; i++)
        {
            try
            {
                bool w = (long)await tasks[i].ConfigureAwait(false) == 1;
                written.Span[i] = w;
                stored += w ? 1 : 0;
                skipped += w ? 0 : 1;
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                written.Span[i] = false;
                failure ??= e;
                failed++;
            }
        }

        Diagnostics.FeatureMetrics.RecordPush(Name, stored, skipped);
        if (failure is not null)
        {
            throw new OnlineStoreUnavailableException(Name, $"{failed} of {tasks.Length} rows were not written: {failure.Message}", failure);
        }
    }
}
