using LowLatency.Features.Store;
using LowLatency.Streams.Events;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>The combined watermark: held back by a silent partition until it is idle, then the minimum of the others; never moving back.</summary>
public sealed class IdlePartitionTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task A_silent_partition_holds_windows_back_until_its_idle_timeout_then_is_left_out()
    {
        using var repo = new StreamRepository(redis.Port, partitions: 2, delayMs: 200, idleMs: 5000);
        long t0 = 1_700_000_000_000;
        long[] keysOf0 = Enumerable.Range(1, 200).Where(k => StreamPartitioner.Partition(k, 2) == 0).Take(3).Select(k => (long)k).ToArray();
        long[] keysOf1 = Enumerable.Range(1, 200).Where(k => StreamPartitioner.Partition(k, 2) == 1).Take(1).Select(k => (long)k).ToArray();
        for (int i = 0; i < 60; i++)
        {
            await Append(0, keysOf0[i % 3], t0 + (i * 50));
        }

        var time = new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(t0 + 10_000));
        await using var store = await RedisOnlineStore.ConnectAsync(repo.Repository.OnlineStore("default")!, repo.Repository);
        var recording = new RecordingStore(store);
        await using var source = await RedisStreamSource.ConnectAsync(redis.ConnectionString, repo.Source, "ll-streams", "idle-test", 2000);
        var processor = new StreamProcessor(StreamRun.Options(), repo.Source, source, recording, time);
        processor.Start();
        try
        {
            // Partition 0's watermark is past three tumbling windows, but partition 1 has said nothing
            // and is not idle yet (the clock has not moved): nothing fires.
            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(30));
            await Task.Delay(300);
            Assert.Equal(0, recording.Writes);
            Assert.Equal(long.MinValue, processor.CombinedWatermark);

            // Past the idle timeout partition 1 is left out; partition 0, with a new entry, is active.
            time.Advance(TimeSpan.FromMilliseconds(5001));
            await Append(0, keysOf0[0], t0 + 2990);
            Assert.True(await Poll.UntilAsync(() => processor.CombinedWatermark != long.MinValue, TimeSpan.FromSeconds(10)), "the watermark never moved");
            long watermark = t0 + 2990 - 200 - 1;
            Assert.Equal(watermark, processor.CombinedWatermark);
            Assert.True(await Poll.UntilAsync(() => recording.Windows.Keys.Any(w => w.View == "tumbling" && w.End == t0 + 2000), TimeSpan.FromSeconds(10)), "no window fired");
            Assert.DoesNotContain(recording.Windows.Keys, w => w.View == "tumbling" && w.End - 1 > watermark);

            // Partition 1 speaks again, far behind: it is active again, and the watermark does not move back.
            await Append(1, keysOf1[0], t0 + 100);
            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(30));
            await Task.Delay(100);
            Assert.Equal(watermark, processor.CombinedWatermark);
        }
        finally
        {
            await processor.StopAsync();
        }

        Assert.Null(processor.Failure);

        Task<RedisValue> Append(int partition, long key, long time) =>
            redis.Db.StreamAddAsync(repo.Source.PartitionStream(partition), [new("user_id", key), new("ts", time), new("type", "impression"), new("item_id", 1), new("dwell_ms", 10)]);
    }
}
