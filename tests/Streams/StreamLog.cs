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
