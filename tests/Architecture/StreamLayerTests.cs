using LowLatency.Streams.Processing;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// The stream processor's folders as layers, bottom to top: Events (entries as the windows read
/// them, the partitioner), Windows (one partition's engine), State (its checkpoint codec),
/// Diagnostics (its meter), Sources (the source contract and Redis Streams), Sinks (the online
/// store), Processing (the processor, its options, the hosted service), Generation (the synthetic
/// producer). It uses the feature store's definitions and store, and neither the engine nor the host
/// nor ASP.NET Core.
/// </summary>
public sealed class StreamLayerTests
{
    internal static readonly string[] Layers = ["Events", "Windows", "State", "Diagnostics", "Sources", "Sinks", "Processing", "Generation"];

    private static readonly System.Reflection.Assembly Streams = typeof(StreamProcessor).Assembly;

    [Fact]
    public void No_stream_folder_uses_one_above_it()
    {
        var edges = LayerRules.BackEdges(Streams, "LowLatency.Streams", Layers);
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    [Fact]
    public void Every_stream_folder_has_its_place_in_the_order()
    {
        Assert.Equal(new SortedSet<string>(Layers, StringComparer.Ordinal), LayerRules.Folders(Streams, "LowLatency.Streams"));
    }

    [Fact]
    public void The_stream_processor_uses_neither_the_host_nor_the_engine_nor_aspnet()
    {
        var referenced = Streams.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("LowLatency.Features", referenced);
        Assert.DoesNotContain("LowLatency.Host", referenced);
        Assert.DoesNotContain("LowLatency.Engine", referenced);
        Assert.DoesNotContain(referenced, a => a!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }
}
