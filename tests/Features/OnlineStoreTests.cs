using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Features;

/// <summary>
/// The online store's contract against real servers: Garnet in process (the embedded default), a
/// redis-server and a three-master Redis Cluster (child processes), the same tests against each;
/// then what only a cluster or a restart shows. Every test writes under a project of its own, so
/// tests sharing a server never see each other's rows. The near cache is off unless a test is about it.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed partial class OnlineStoreTests(StoreFixtures fixtures) : IClassFixture<StoreFixtures>
{
    public static TheoryData<string> Kinds() => StoreFixtures.Kinds();

    private static NearCacheSettings NoCache => new() { CapacityBytes = 0 };

    /// <summary>The example repository under a fresh project name, changed by <paramref name="change"/>.</summary>
    private static FeatureRepository Repository(Action<TempFeatureRepository>? change = null)
    {
        using var temp = new TempFeatureRepository();
        temp.Edit("feature_store.json", n => n["project"] = "t" + Guid.NewGuid().ToString("N")[..12]);
        change?.Invoke(temp);
        return FeatureRepositoryReader.Read(temp.Root);
    }

    private Task<FeatureStore> OpenAsync(string kind, FeatureRepository repository, NearCacheSettings? cache = null) =>
        FeatureStore.OpenAsync(repository, new FeatureStoreOptions { OnlineStores = [fixtures.Get(kind).Store()], NearCache = cache ?? NoCache });
}
