using LowLatency.Features.Store;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>Appending a generated log, running a processor in this process over it to the end, and comparing everything with the reference.</summary>
internal static class StreamRun
{
    public const long FarFuture = 4_000_000_000_000;

    public static StreamProcessorOptions Options() => new() { CheckpointIntervalMs = 20, LeaseMs = 2000, BatchSize = 500 };

    public static async Task AppendAsync(IDatabase db, StreamRepository repo, EventGeneratorOptions options, bool heartbeat = true)
    {
        var appender = new StreamAppender(db, repo.Source);
        await appender.RunAsync(new EventGenerator(options), options);
        if (heartbeat)
        {
            appender.Heartbeat(FarFuture);
            await appender.FlushAsync();
        }
    }

    /// <summary>Runs a processor until every partition is checkpointed at its end; the rows it wrote, recorded.</summary>
    public static async Task<RecordingStore> ProcessAsync(StreamsRedisFixture redis, StreamRepository repo, StreamProcessorOptions? options = null, TimeProvider? time = null)
    {
        await using var store = await RedisOnlineStore.ConnectAsync(repo.Repository.OnlineStore("default")!, repo.Repository);
        var recording = new RecordingStore(store);
        await using var source = await RedisStreamSource.ConnectAsync(redis.ConnectionString, repo.Source, "ll-streams", "test-" + Guid.NewGuid().ToString("N")[..8], (options ?? Options()).LeaseMs);
        var processor = new StreamProcessor(options ?? Options(), repo.Source, source, recording, time);
        processor.Start();
        try
        {
            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(60), describe: () => $"failure: {processor.Failure}");
        }
        finally
        {
            await processor.StopAsync();
        }

        Assert.Null(processor.Failure);
        return recording;
    }

    /// <summary>Every window's last row (when recorded), each (view, key)'s row in the store, and the dead letters, against the reference.</summary>
    public static async Task<ReferenceResult> CheckAsync(StreamsRedisFixture redis, StreamRepository repo, RecordingStore? recording, Action<string>? progress = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var log = await StreamLog.ReadAsync(redis.Db, repo.Source);
        progress?.Invoke($"log read back in {clock.Elapsed.TotalSeconds:F1} s");
        var expected = Reference.Compute(repo.Source, log);
        progress?.Invoke($"reference computed in {clock.Elapsed.TotalSeconds:F1} s");
        if (recording is not null)
        {
            Assert.Equal(expected.Windows.Count, recording.Windows.Count);
            foreach (var (window, (revision, row)) in expected.Windows)
            {
                Assert.True(recording.Windows.TryGetValue(window, out var got), $"window {window} was never written");
                Assert.True(revision == got.Revision && row.AsSpan().SequenceEqual(got.Row), $"window {window}: expected revision {revision} {Convert.ToHexString(row)}, written {got.Revision} {Convert.ToHexString(got.Row)}");
            }
        }

        await CheckStoreAsync(redis, repo, expected);
        var dead = await redis.Db.StreamRangeAsync(repo.Source.DeadLetterStream);
        var deadLetters = dead.Select(d => (d["source_id"].ToString(), d["view"].ToString() is { Length: > 0 } v ? v : null)).Order().ToList();
        Assert.Equal(expected.DeadLetters.Order().ToList(), deadLetters);
        return expected;
    }

    public static async Task CheckStoreAsync(StreamsRedisFixture redis, StreamRepository repo, ReferenceResult expected)
    {
        await using var store = await RedisOnlineStore.ConnectAsync(repo.Repository.OnlineStore("default")!, repo.Repository);
        var reads = expected.Latest.Keys.Select(k => new RowRead(repo.Repository.FeatureView(k.View)!, EntityKey.Of(k.Key), new byte[repo.Repository.FeatureView(k.View)!.RowBytes])).ToArray();
        // In parts: a read of every row at once (15,000 in the crash test) can take longer than the
        // store's read timeout on a loaded machine, and its rows then read back Unavailable.
        for (int from = 0; from < reads.Length; from += 1000)
        {
            await store.ReadAsync(reads.AsMemory(from, Math.Min(1000, reads.Length - from)));
        }

        int i = 0;
        foreach (var (key, (end, _, row)) in expected.Latest)
        {
            var read = reads[i++];
            Assert.True(read.State == RowState.Found, $"{key}: {read.State}");
            Assert.True(end * 1000 == read.EventTimeMicros && row.AsSpan().SequenceEqual(read.Destination.Span), $"{key}: expected end {end} {Convert.ToHexString(row)}, stored {read.EventTimeMicros / 1000} {Convert.ToHexString(read.Destination.Span)}");
        }

        // Nothing more than the reference: one row per (view, key) it has, no other key of the project's.
        var server = redis.Connection!.GetServer("127.0.0.1", redis.Port);
        long stored = 0;
        await foreach (var _ in server.KeysAsync(pattern: repo.Repository.Project + ":*"))
        {
            stored++;
        }

        Assert.Equal(expected.Latest.Count, stored);
    }
}
