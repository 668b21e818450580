using System.Diagnostics;
using StackExchange.Redis;

namespace LowLatency.Features.Store;

public sealed partial class RedisOnlineStore
{
    public async ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default)
    {
        var (index, keys) = PendingKeys(rows.Span);
        if (index.Length == 0)
        {
            return;
        }

        long start = Stopwatch.GetTimestamp();
        var counts = default(ReadCounts);
        var (groups, tasks) = Issue(index, keys);
        for (int g = 0; g < groups.Count; g++)
        {
            var values = tasks is null ? null : await Guard(tasks[g], start, cancellationToken).ConfigureAwait(false);
            Apply(rows.Span, index, groups[g].Start, values, groups[g].Count, ref counts);
        }

        Diagnostics.FeatureMetrics.RecordFetch(Name, (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds, counts.Found, counts.NotFound, counts.Mismatched, counts.Unavailable);
    }

    // On one server, one MGET. On a cluster, one MGET per hash slot (a cluster refuses a multi-key
    // command across slots), all in one batch: the multiplexer routes each to its node and writes
    // them out together. Null tasks when the client refuses at once (no connection to a server).
    private (List<(int Start, int Count)> Groups, Task<RedisValue[]>[]? Tasks) Issue(int[] index, RedisKey[] keys)
    {
        var groups = _cluster ? GroupBySlot(index, keys) : [(0, keys.Length)];
        try
        {
            if (!_cluster)
            {
                return (groups, [_db.StringGetAsync(keys)]);
            }

            var batch = _db.CreateBatch();
            var tasks = new Task<RedisValue[]>[groups.Count];
            for (int g = 0; g < groups.Count; g++)
            {
                tasks[g] = batch.StringGetAsync(keys.AsSpan(groups[g].Start, groups[g].Count).ToArray());
            }

            batch.Execute();
            return (groups, tasks);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            return (groups, null);
        }
    }

    private (int[] Index, RedisKey[] Keys) PendingKeys(Span<RowRead> rows)
    {
        int n = 0;
        foreach (ref var row in rows)
        {
            n += row.State == RowState.Pending ? 1 : 0;
        }

        var index = new int[n];
        var keys = new RedisKey[n];
        n = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].State == RowState.Pending)
            {
                index[n] = i;
                keys[n++] = _keys.Key(rows[i].View, rows[i].Entity);
            }
        }

        return (index, keys);
    }

    // Sorts index and keys by hash slot in place; returns the runs of one slot.
    private List<(int Start, int Count)> GroupBySlot(int[] index, RedisKey[] keys)
    {
        var order = new long[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            order[i] = ((long)_connection.HashSlot(keys[i]) << 32) | (uint)i;
        }

        Array.Sort(order);
        var sortedIndex = new int[index.Length];
        var sortedKeys = new RedisKey[keys.Length];
        var groups = new List<(int, int)>();
        int runStart = 0;
        for (int i = 0; i < order.Length; i++)
        {
            int from = (int)(uint)order[i];
            sortedIndex[i] = index[from];
            sortedKeys[i] = keys[from];
            if (i > 0 && order[i] >> 32 != order[i - 1] >> 32)
            {
                groups.Add((runStart, i - runStart));
                runStart = i;
            }
        }

        groups.Add((runStart, order.Length - runStart));
        sortedIndex.CopyTo(index, 0);
        sortedKeys.CopyTo(keys, 0);
        return groups;
    }

    // The values, or null when the server could not be asked in time: those rows are unavailable,
    // not an exception, so that one node down fails only its own rows. A cancellation still throws.
    // The read timeout is this store's own, counted from the read's start for all its commands:
    // while the client reconnects to a server that went away, it holds commands until the attempt
    // ends (seconds), where a request needs its answer now.
    private async Task<RedisValue[]?> Guard(Task<RedisValue[]> task, long start, CancellationToken cancellationToken)
    {
        try
        {
            if (task.IsCompleted)
            {
                return await task.ConfigureAwait(false);
            }

            var left = _readTimeout - Stopwatch.GetElapsedTime(start);
            return await task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            if (!task.IsCompleted)
            {
                // Abandoned: observe its eventual failure so it is not reported as unobserved.
                _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            return null;
        }
    }

    private static void Apply(Span<RowRead> rows, int[] index, int start, RedisValue[]? values, int count, ref ReadCounts counts)
    {
        for (int i = 0; i < count; i++)
        {
            ref var row = ref rows[index[start + i]];
            if (values is null)
            {
                row.State = RowState.Unavailable;
                counts.Unavailable++;
            }
            else if (values[i].IsNull)
            {
                row.State = RowState.NotFound;
                counts.NotFound++;
            }
            else if (RowLayout.TryDecode(((ReadOnlyMemory<byte>)values[i]).Span, row.View, out long eventTime, out var stored))
            {
                stored.CopyTo(row.Destination.Span);
                row.EventTimeMicros = eventTime;
                row.State = RowState.Found;
                counts.Found++;
            }
            else
            {
                row.State = RowState.NotFound;
                counts.Mismatched++;
            }
        }
    }

    private struct ReadCounts
    {
        public int Found;
        public int NotFound;
        public int Mismatched;
        public int Unavailable;
    }
}
