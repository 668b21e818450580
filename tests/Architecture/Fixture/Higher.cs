namespace LowLatency.Tests.Architecture.Fixture.Higher;

/// <summary>The layer <see cref="Lower.Lower"/> reaches up to.</summary>
internal static class Higher
{
    public static int Value => Environment.ProcessorCount;
}
