using CsCheck;
using LowLatency.Streams.Events;
using LowLatency.Tests.Features;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>
/// Random event logs (keys, out-of-order and late times, clicks, items, dwell times, unreadable
/// entries) and random window, lateness and watermark settings: the processor's rows, every window's
/// last revision and the dead letters equal the reference's, through Redis and the online store.
/// </summary>
public sealed class StreamPropertyTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    private readonly record struct Ev(int Key, int Step, bool Click, int Item, int Dwell, bool Malformed);

    private readonly record struct Settings(int Partitions, int Delay, int Tumbling, int TumblingLate, int Slide, int Slides, int SlidingLate, int Gap, int SessionLate);

    [RedisFact]
    public void Online_results_equal_the_reference_over_random_logs()
    {
        var ev = Gen.Select(Gen.Int[1, 6], Gen.Frequency((6, Gen.Int[0, 120]), (3, Gen.Int[-400, 0]), (1, Gen.Int[-3000, -400])), Gen.Bool, Gen.Int[1, 8], Gen.Int[0, 500], Gen.Frequency((30, Gen.Const(false)), (1, Gen.Const(true))),
            (k, s, c, i, d, m) => new Ev(k, s, c, i, d, m));
        var settings = Gen.Select(
            Gen.Select(Gen.Int[1, 3], Gen.Int[0, 300], Gen.Int[50, 1000], Gen.Int[0, 800]),
            Gen.Select(Gen.Int[20, 300], Gen.Int[1, 4], Gen.Int[0, 500], Gen.Int[20, 600], Gen.Int[0, 500]),
            (a, b) => new Settings(a.Item1, a.Item2, a.Item3, a.Item4, b.Item1, b.Item2, b.Item3, b.Item4, b.Item5));
        Gen.Select(settings, ev.Array[1, 80]).Sample((s, events) => Run(s, events).GetAwaiter().GetResult(), iter: 60, threads: 1);
    }

    private async Task Run(Settings s, Ev[] events)
    {
        using var repo = new StreamRepository(redis.Port, s.Partitions, s.Delay, 60_000, s.Tumbling, s.TumblingLate, s.Slide * s.Slides, s.Slide, s.SlidingLate, s.Gap, s.SessionLate);
        long time = 1_700_000_000_000;
        var db = redis.Db;
        var appends = new List<Task>();
        foreach (var e in events)
        {
            time += Math.Max(0, e.Step);
            long t = Math.Max(0, time + Math.Min(0, e.Step));
            int p = StreamPartitioner.Partition(e.Key, s.Partitions);
            appends.Add(e.Malformed
                ? db.StreamAddAsync(repo.Source.PartitionStream(p), [new("user_id", e.Key), new("ts", "soon")])
                : db.StreamAddAsync(repo.Source.PartitionStream(p), [new("user_id", e.Key), new("ts", t), new("type", e.Click ? "click" : "impression"), new("item_id", e.Item), new("dwell_ms", e.Dwell)]));
        }

        for (int p = 0; p < s.Partitions; p++)
        {
            appends.Add(db.StreamAddAsync(repo.Source.PartitionStream(p), "_wm", StreamRun.FarFuture));
        }

        await Task.WhenAll(appends);
        var recording = await StreamRun.ProcessAsync(redis, repo);
        await StreamRun.CheckAsync(redis, repo, recording);
    }
}
