using LowLatency.Features.Serving;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// The feature store's folders as layers, bottom to top: Definitions (the repository and its
/// reader), Diagnostics (its meter), Store (the online store contract and Redis), Cache (the near
/// cache), Serving (the feature server and the store facade). The project stands beside the engine
/// and below the host: it uses neither.
/// </summary>
public sealed class FeatureLayerTests
{
    internal static readonly string[] Layers = ["Definitions", "Diagnostics", "Store", "Cache", "Serving"];

    private static readonly System.Reflection.Assembly Features = typeof(FeatureStore).Assembly;

    [Fact]
    public void No_feature_folder_uses_one_above_it()
    {
        var edges = LayerRules.BackEdges(Features, "LowLatency.Features", Layers);
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    [Fact]
    public void Every_feature_folder_has_its_place_in_the_order()
    {
        Assert.Equal(new SortedSet<string>(Layers, StringComparer.Ordinal), LayerRules.Folders(Features, "LowLatency.Features"));
    }

    [Fact]
    public void The_feature_store_uses_neither_the_host_nor_the_engine()
    {
        var referenced = Features.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain("LowLatency.Host", referenced);
        Assert.DoesNotContain("LowLatency.Engine", referenced);
        Assert.DoesNotContain("Microsoft.AspNetCore.Http.Abstractions", referenced);
    }
}
