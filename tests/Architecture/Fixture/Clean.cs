namespace LowLatency.Tests.Architecture.Fixture.Clean;

/// <summary>A layer that uses <see cref="Lower.Lower"/>: above it, as it is in every order the tests give.</summary>
internal static class Clean
{
    public static int ReachDown() => Lower.Lower.ReachUp() * 2;
}
