using LowLatency.Gateway;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// The gateway routes through the engine and knows nothing of HTTP or gRPC, so both faces (and a
/// process that is only a gateway) call it alike; its folders are layers (docs/gateway.md#where-it-lives).
/// </summary>
public sealed class GatewayLayerTests
{
    internal static readonly string[] Layers = ["Config", "Weights", "Remote", "Routing"];

    private static readonly System.Reflection.Assembly Gateway = typeof(ModelGateway).Assembly;

    [Fact]
    public void The_gateway_uses_the_engine_and_no_face()
    {
        var referenced = Gateway.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("LowLatency.Engine", referenced);
        Assert.DoesNotContain("LowLatency.Host", referenced);
        Assert.DoesNotContain("Microsoft.AspNetCore.Http.Abstractions", referenced);
        Assert.DoesNotContain("Grpc.Core.Api", referenced);
    }

    [Fact]
    public void No_gateway_folder_uses_one_above_it()
    {
        var edges = LayerRules.BackEdges(Gateway, "LowLatency.Gateway", Layers);
        edges.AddRange(LayerRules.UsesOfTop(Gateway, "LowLatency.Gateway", Layers));
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    [Fact]
    public void Every_gateway_folder_has_its_place_in_the_order()
    {
        Assert.Equal(new SortedSet<string>(Layers, StringComparer.Ordinal), LayerRules.Folders(Gateway, "LowLatency.Gateway"));
    }
}
