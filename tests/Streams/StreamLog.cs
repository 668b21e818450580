using System.Diagnostics;
using LowLatency.Features.Definitions;
using LowLatency.Streams.Sources;
using StackExchange.Redis;
using StreamPosition = LowLatency.Streams.Events.StreamPosition;

namespace LowLatency.Tests.Streams;

/// <summary>Reading a source's partitions back from Redis, and waiting until a group has checkpointed all of them.</summary>
internal static class StreamLog
{
    public static async Task<List<IReadOnlyList<LogEntry>>> ReadAsync(IDatabase db, StreamSource source)
    {
        var partitions = new List<IReadOnlyList<LogEntry>>();
        for (int p = 0; p < source.Partitions; p++)
        {
            var list = new List<LogEntry>();
            RedisValue from = "-";
            while (true)
            {
                var entries = await db.StreamRangeAsync(source.PartitionStream(p), from, "+", 20_000);
                foreach (var e in entries)
                {
                    list.Add(new LogEntry(e.Id.ToString(), Position(e.Id), e.Values.ToDictionary(v => v.Name.ToString(), v => v.Value.ToString())));
                }

                if (entries.Length < 20_000)
                {
                    break;
                }

                from = "(" + entries[^1].Id;
            }

            partitions.Add(list);
        }

        return partitions;
    }

    public static StreamPosition Position(RedisValue id)
    {
        var parts = id.ToString().Split('-');
        return new StreamPosition(ulong.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Entries of the source's partitions the group has not checkpointed: per partition, those not yet
    /// delivered (the group's lag) and those delivered and not acknowledged (a checkpoint acknowledges
    /// in the same script that records its position); a partition without the group yet, all of it.
    /// </summary>
    public static async Task<long> OutstandingAsync(IDatabase db, StreamSource source, string group = "ll-streams")
    {
        long outstanding = 0;
        for (int p = 0; p < source.Partitions; p++)
        {
            var stream = source.PartitionStream(p);
            StreamGroupInfo? found = null;
            if (await db.KeyExistsAsync(stream))
            {
                foreach (var g in await db.StreamGroupInfoAsync(stream))
                {
                    found = g.Name == group ? g : found;
                }
            }

            outstanding += found is { Lag: long lag } info ? lag + info.PendingMessageCount : await db.StreamLengthAsync(stream);
        }

        return outstanding;
    }

    /// <summary>Entries in the source's partitions.</summary>
    public static async Task<long> LengthAsync(IDatabase db, StreamSource source)
    {
        long length = 0;
        for (int p = 0; p < source.Partitions; p++)
        {
            length += await db.StreamLengthAsync(source.PartitionStream(p));
        }

        return length;
    }

    /// <summary>Waits until the group's outstanding entries are at most <paramref name="outstanding"/>; the number then.</summary>
    public static async Task<long> WaitOutstandingAsync(IDatabase db, StreamSource source, long outstanding, TimeSpan timeout, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            long now = await OutstandingAsync(db, source);
            if (now <= outstanding)
            {
                return now;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{now} entries outstanding after {timeout.TotalSeconds} s, waiting for {outstanding}. {describe?.Invoke()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits until every partition's checkpoint is at the partition's last entry.</summary>
    public static async Task WaitCheckpointedAsync(IDatabase db, StreamSource source, TimeSpan timeout, string group = "ll-streams", Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int done = 0;
            for (int p = 0; p < source.Partitions; p++)
            {
                var last = await db.StreamRangeAsync(source.PartitionStream(p), "-", "+", 1, Order.Descending);
                var keys = new RedisStreamKeys(source, group, p);
                var position = await db.HashGetAsync(keys.Meta, "position");
                done += last.Length == 0 || position == last[0].Id ? 1 : 0;
            }

            if (done == source.Partitions)
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{done} of {source.Partitions} partitions checkpointed at their end after {timeout.TotalSeconds} s. {describe?.Invoke()}");
            }

            await Task.Delay(50);
        }
    }
}
