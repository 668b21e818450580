using System.Globalization;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Sources;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Streams;

/// <summary>
/// The processor inside the server (<c>LowLatency:Streams:Enabled</c>): it computes the server's
/// feature repository's stream views from a real redis-server's streams into the server's store,
/// exports its meter on /metrics, serves the rows through Feast's route, and releases its partitions
/// when the server stops; the stored rows match the reference computed offline.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class InServerTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task The_server_computes_its_stream_views_and_releases_its_partitions_when_it_stops()
    {
        using var repo = new StreamRepository(redis.Port, partitions: 2);
        using var models = new TempRepository();
        var options = StreamRun.Options();
        var (app, address) = await ServerFixture.StartAsync(models.Root, [
            "--feature-repository", repo.Root,
            "--LowLatency:Streams:Enabled=true",
            "--LowLatency:Streams:ConnectionString=" + redis.ConnectionString,
            "--LowLatency:Streams:Member=server",
            "--LowLatency:Streams:CheckpointIntervalMs=" + options.CheckpointIntervalMs.ToString(CultureInfo.InvariantCulture),
            "--LowLatency:Streams:LeaseMs=" + options.LeaseMs.ToString(CultureInfo.InvariantCulture)]);
        try
        {
            using var client = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(client);
            await StreamRun.AppendAsync(redis.Db, repo, new EventGeneratorOptions { Count = 3000, Keys = 20, StartMs = 1_700_000_000_000, StepMs = 2, OutOfOrder = 0.1, DisorderMs = 300, Late = 0.02, LateMs = 1000 });
            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(60));

            string metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("lowlatency_streams_", metrics);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        await StreamRun.CheckAsync(redis, repo, recording: null);
        for (int p = 0; p < repo.Source.Partitions; p++)
        {
            Assert.False(await redis.Db.KeyExistsAsync(new RedisStreamKeys(repo.Source, "ll-streams", p).Lease), $"partition {p}'s lease was not released");
        }
    }

    [Fact]
    public async Task Streams_enabled_without_a_feature_repository_refuse_start_up()
    {
        using var models = new TempRepository();
        var e = await Assert.ThrowsAsync<LowLatency.Host.StartupRefusedException>(() => ServerFixture.StartAsync(models.Root, ["--LowLatency:Streams:Enabled=true"]));
        Assert.Contains("LowLatency:Streams:Enabled needs a feature repository", e.Message);
    }
}
