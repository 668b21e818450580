using System.Diagnostics;
using System.Globalization;
using LowLatency.Engine.Serving;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Join;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// A join whose store hangs (a redis-server stopped with SIGSTOP, its connection open) gives up at
/// half the request's deadline, not at the store's read timeout: the rows take their defaults
/// (UNAVAILABLE) and the model still answers within the deadline.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class JoinDeadlineTests
{
    [RedisFact]
    public async Task A_hung_store_costs_the_join_half_the_deadline_and_the_rows_their_defaults()
    {
        using var redis = new RedisServerProcess(LoopbackPorts.Free());
        redis.Start();
        var repository = FeatureRepositoryReader.Read(TempFeatureRepository.Example);
        var redisStore = new OnlineStoreDefinition { Name = "default", Kind = OnlineStoreKind.Redis, ConnectionString = "127.0.0.1:" + redis.Port.ToString(CultureInfo.InvariantCulture), ReadTimeout = TimeSpan.FromSeconds(30) };
        await using var store = await FeatureStore.OpenAsync(repository, new FeatureStoreOptions { OnlineStores = [redisStore] });
        var golden = JoinedGolden.Load();
        foreach (var push in golden.PushRequests(DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            await store.Server.PushAsync(push);
        }

        var plans = new JoinPlans(repository);
        var joiner = new FeatureJoiner(plans, store.Online);
        using var engine = new InferenceEngine(new EngineOptions { ModelRepository = RepoPaths.Models, ModelControlMode = ModelControlMode.Explicit, StartupModels = [JoinedGolden.Model], CheckConfig = plans.Check });
        engine.Scan();
        engine.Load();
        Assert.True(engine.TryGetModel(JoinedGolden.Model, out var served));

        redis.Pause();
        try
        {
            using var r = JoinedGolden.Fill(served.Latest.RentRequest(), golden.Request);

            // The client's deadline (gRPC's): 1 s, of which the join may take half.
            r.DeadlineMicroseconds = 1_000_000;
            var took = Stopwatch.StartNew();
            var joined = await joiner.JoinAsync(r);
            Assert.InRange(took.Elapsed.TotalMilliseconds, 400, 5000);
            Assert.Equal("user_activity:UNAVAILABLE,UNAVAILABLE,UNAVAILABLE,UNAVAILABLE,UNAVAILABLE,UNAVAILABLE;item_static:UNAVAILABLE,UNAVAILABLE,UNAVAILABLE,UNAVAILABLE,UNAVAILABLE,UNAVAILABLE", joined.Statuses);
            Assert.True(await served.Latest.InferAsync(r), r.Error);
        }
        finally
        {
            redis.Resume();
        }
    }
}
