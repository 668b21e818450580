using System.Reflection;
using LowLatency.Host;

namespace LowLatency.Tests.Architecture;

/// <summary>
/// The host's folders as layers: Memory (the body budget, the transport's buffers, the trim) and
/// Protocol (wire formats, decoders, the response writer, errors) at the bottom, Memory using no
/// other; Diagnostics and Security beside each other, neither using the other; Endpoints; Grpc (the
/// gRPC face, which reuses the REST routes' code); and the host's top (its startup and options, in
/// LowLatency.Host itself), which may use them all.
/// </summary>
public sealed class HostLayerTests
{
    private const string Root = "LowLatency.Host";

    private static readonly Assembly Host = typeof(ServerOptions).Assembly;

    [Theory]
    [InlineData("Memory", "Protocol", "Diagnostics", "Endpoints", "Grpc")]
    [InlineData("Memory", "Security")]
    [InlineData("Protocol", "Diagnostics", "Endpoints", "Grpc")]
    [InlineData("Protocol", "Security", "Endpoints", "Grpc")]
    [InlineData("Diagnostics", "Security")]
    [InlineData("Security", "Diagnostics")]
    public void No_host_folder_uses_one_above_it(params string[] order)
    {
        var edges = LayerRules.BackEdges(Host, Root, order);
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    /// <summary>
    /// The negative case: Grpc reuses Endpoints (the REST routes' code), so with Grpc placed below
    /// Endpoints the check reports it: the rule above would catch an Endpoints type using Grpc.
    /// </summary>
    [Fact]
    public void Grpc_below_Endpoints_is_reported_as_back_edges()
    {
        var edges = LayerRules.BackEdges(Host, Root, ["Grpc", "Endpoints"]);
        Assert.Contains(edges, e => e.StartsWith($"{Root}.Grpc.", StringComparison.Ordinal) && e.EndsWith("(Grpc) uses Endpoints, a layer above it", StringComparison.Ordinal));
    }

    [Fact]
    public void No_host_folder_uses_the_host_top()
    {
        var edges = LayerRules.UsesOfTop(Host, Root, ["Memory", "Protocol", "Diagnostics", "Security", "Endpoints", "Grpc"]);
        Assert.True(edges.Count == 0, "back-edges:\n" + string.Join("\n", edges));
    }

    [Fact]
    public void Every_host_folder_has_its_place_in_the_order()
    {
        Assert.Equal(new SortedSet<string>(["Diagnostics", "Endpoints", "Grpc", "Memory", "Protocol", "Security"], StringComparer.Ordinal), LayerRules.Folders(Host, Root));
    }
}
