using LowLatency.Engine.Serving;

namespace LowLatency.Tests.Architecture;

/// <summary>The engine's folders as layers (engine/README.md): none reaches a folder above it.</summary>
public sealed class EngineLayerTests
{
    internal static readonly string[] Layers = ["Time", "Config", "Repository", "Requests", "Diagnostics", "Execution", "Scheduling", "Routing", "Serving"];

    private static readonly System.Reflection.Assembly Engine = typeof(InferenceEngine).Assembly;

    [Fact]
    public void No_engine_folder_uses_one_above_it()
    {
        var edges = LayerRules.BackEdges(Engine, "LowLatency.Engine", Layers);
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    [Fact]
    public void Every_engine_folder_has_its_place_in_the_order()
    {
        Assert.Equal(new SortedSet<string>(Layers, StringComparer.Ordinal), LayerRules.Folders(Engine, "LowLatency.Engine"));
    }
}
