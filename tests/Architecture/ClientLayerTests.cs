using System.Reflection;
using LowLatency.Client;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// The client library stands alone: it references the protocol's messages and gRPC's client, never
/// the server's host, engine or native code. Inside it, the codecs (Wire) know neither transport,
/// and each transport (Http, Grpc) knows nothing of the other.
/// </summary>
public sealed class ClientLayerTests
{
    private const string Root = "LowLatency.Client";

    private static readonly Assembly Client = typeof(InferenceClient).Assembly;

    [Fact]
    public void The_client_references_none_of_the_servers_assemblies()
    {
        var referenced = Client.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(referenced, name => name is "LowLatency.Host" or "LowLatency.Engine" or "LowLatency.Native" or "TorchSharp");
        Assert.Contains("LowLatency.Protocol", referenced);
    }

    [Theory]
    [InlineData("Wire", "Http")]
    [InlineData("Wire", "Grpc")]
    [InlineData("Http", "Grpc")]
    [InlineData("Grpc", "Http")]
    public void A_client_folder_does_not_use_another_beside_or_above_it(params string[] order)
    {
        var edges = LayerRules.BackEdges(Client, Root, order);
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    [Fact]
    public void Every_client_folder_has_its_place()
    {
        Assert.Equal(new SortedSet<string>(["Grpc", "Http", "Wire"], StringComparer.Ordinal), LayerRules.Folders(Client, Root));
    }
}
