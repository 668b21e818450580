namespace LowLatency.Tests.Architecture.Fixture.Lower;

/// <summary>A lower layer that reaches up, in a method body only: what <see cref="LayerRulesTests"/> must catch.</summary>
internal static class Lower
{
    public static int ReachUp() => Higher.Higher.Value + 1;
}
