namespace LowLatency.Tests.Architecture;

/// <summary>The layer check itself, on a fixture with one deliberate back-edge: it must be found, and nothing else.</summary>
public sealed class LayerRulesTests
{
    private const string Root = "LowLatency.Tests.Architecture.Fixture";

    [Fact]
    public void A_lower_layer_calling_a_higher_one_from_a_method_body_is_a_back_edge()
    {
        var edges = LayerRules.BackEdges(typeof(LayerRulesTests).Assembly, Root, ["Lower", "Higher"]);
        Assert.Equal([$"{Root}.Lower.Lower (Lower) uses Higher, a layer above it"], edges);
    }

    [Fact]
    public void The_same_uses_in_an_order_where_each_looks_down_are_none()
    {
        Assert.Empty(LayerRules.BackEdges(typeof(LayerRulesTests).Assembly, Root, ["Higher", "Lower", "Clean"]));
    }
}
