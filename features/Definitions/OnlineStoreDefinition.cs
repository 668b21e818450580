namespace LowLatency.Features.Definitions;

/// <summary>A named online store of <c>feature_store.json</c>.</summary>
public sealed class OnlineStoreDefinition
{
    public required string Name { get; init; }

    public required OnlineStoreKind Kind { get; init; }

    /// <summary>StackExchange.Redis's connection string (<c>host:port,password=…</c>); empty for the embedded store.</summary>
    public string ConnectionString { get; init; } = string.Empty;

    public RedisTopology RedisType { get; init; } = RedisTopology.Standalone;
}
