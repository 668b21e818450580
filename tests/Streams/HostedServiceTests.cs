using LowLatency.Features.Serving;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using LowLatency.Tests.Features;

namespace LowLatency.Tests.Streams;

/// <summary>The processor as the server would host it: through its own repository and near cache; stopping releases every partition and leaves the group.</summary>
public sealed class HostedServiceTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task The_hosted_service_writes_through_the_servers_store_and_releases_its_partitions_when_stopped()
    {
        using var repo = new StreamRepository(redis.Port, partitions: 2);
        await using var features = await FeatureStore.OpenAsync(repo.Repository);
        var options = StreamRun.Options();
        options.ConnectionString = redis.ConnectionString;
        options.Member = "hosted";
        var service = new StreamProcessorService(options) { Repository = features.Repository, Store = features.Online };
        await service.StartAsync(CancellationToken.None);
        try
        {
            await StreamRun.AppendAsync(redis.Db, repo, new EventGeneratorOptions { Count = 3000, Keys = 20, StartMs = 1_700_000_000_000, StepMs = 2, OutOfOrder = 0.1, DisorderMs = 300, Late = 0.02, LateMs = 1000 });
            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(60));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }

        await StreamRun.CheckAsync(redis, repo, recording: null);
        for (int p = 0; p < repo.Source.Partitions; p++)
        {
            Assert.False(await redis.Db.KeyExistsAsync(new RedisStreamKeys(repo.Source, options.Group, p).Lease), $"partition {p}'s lease was not released");
        }

        Assert.Equal(0, await redis.Db.SortedSetLengthAsync(RedisStreamKeys.Members(repo.Source, options.Group)));
    }
}
