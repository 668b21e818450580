using LowLatency.Streams.Generation;
using LowLatency.Tests.Features;

namespace LowLatency.Tests.Streams;

/// <summary>Each window type and aggregation, through Redis Streams and the online store, against the reference computed offline from the same log.</summary>
public sealed class StreamWindowTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task Every_window_type_and_aggregation_matches_the_reference_with_out_of_order_late_and_too_late_events()
    {
        using var repo = new StreamRepository(redis.Port);
        await StreamRun.AppendAsync(redis.Db, repo, new EventGeneratorOptions
        {
            Count = 20_000,
            Keys = 40,
            StartMs = 1_700_000_000_000,
            StepMs = 0.25,
            OutOfOrder = 0.2,
            DisorderMs = 600,
            Late = 0.05,
            LateMs = 1200,
            ClickRate = 0.2,
            Items = 100,
        }, heartbeat: false);

        // Unreadable entries go to the dead letters too, with no view.
        await redis.Db.StreamAddAsync(repo.Source.PartitionStream(0), "user_id", "7");
        await redis.Db.StreamAddAsync(repo.Source.PartitionStream(1), [new("user_id", "x"), new("ts", "1700000000000")]);
        await redis.Db.StreamAddAsync(repo.Source.PartitionStream(2), [new("user_id", "8"), new("ts", "-5")]);
        for (int p = 0; p < repo.Source.Partitions; p++)
        {
            await redis.Db.StreamAddAsync(repo.Source.PartitionStream(p), "_wm", StreamRun.FarFuture);
        }

        var recording = await StreamRun.ProcessAsync(redis, repo);
        var expected = await StreamRun.CheckAsync(redis, repo, recording);

        // The log exercised what it should: windows of every kind, drops for every view, late updates.
        Assert.All(["tumbling", "sliding", "session"], v => Assert.Contains(expected.DeadLetters, d => d.View == v));
        Assert.Equal(3, expected.DeadLetters.Count(d => d.View is null));
        Assert.True(recording.Writes > expected.Windows.Count, $"{recording.Writes} writes for {expected.Windows.Count} windows: no late update happened");
        Assert.Contains(expected.Windows, w => w.Key.View == "session" && w.Value.Revision > 1);
        Assert.Contains(expected.Windows, w => w.Key.View == "tumbling" && w.Value.Revision > 64);
    }
}
