namespace LowLatency.Tests.Infrastructure;

/// <summary>The test classes that share one <see cref="ServerFixture"/>: they run one after another, against the same server.</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
