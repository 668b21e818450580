using System.Buffers;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Join;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// The candidate ranker's join read from each kind of store, the near cache off so that every row
/// comes from the server: Garnet in process, a redis-server, and a three-master Redis Cluster (where
/// a user's and an item's rows lie on different nodes). The joined tensors are the golden's, byte for byte.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class JoinOnStoresTests(StoreFixtures fixtures) : IClassFixture<StoreFixtures>
{
    public static TheoryData<string> Kinds() => StoreFixtures.Kinds();

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_golden_join_reads_the_same_rows_from_every_store(string kind)
    {
        using var temp = new TempFeatureRepository();
        temp.Edit("feature_store.json", n => n["project"] = "j" + Guid.NewGuid().ToString("N")[..12]);
        var repository = FeatureRepositoryReader.Read(temp.Root);
        await using var store = await FeatureStore.OpenAsync(repository, new FeatureStoreOptions { OnlineStores = [fixtures.Get(kind).Store()], NearCache = new NearCacheSettings { CapacityBytes = 0 } });
        var golden = JoinedGolden.Load();
        foreach (var push in golden.PushRequests(DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            await store.Server.PushAsync(push);
        }

        string path = Path.Combine(RepoPaths.Models, JoinedGolden.Model, "config.json");
        var config = ModelConfigReader.Parse(File.ReadAllText(path), path);
        var plans = new JoinPlans(repository);
        plans.Check(config, path);
        var joiner = new FeatureJoiner(plans, store.Online);

        using var r = JoinedGolden.Fill(InferenceRequest.ForConfig(config), golden.Request);

        var joined = await joiner.JoinAsync(r);
        Assert.Equal(golden.ExpectedStatuses, joined.Statuses);
        foreach (var expected in golden.JoinedInputs)
        {
            Assert.Equal(Wire.Encode(expected.Datatype, expected.Values), r.InputData(config.InputIndex(expected.Name)).ToArray());
        }
    }
}
