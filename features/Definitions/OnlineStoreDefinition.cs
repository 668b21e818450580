namespace LowLatency.Features.Definitions;

/// <summary>A named online store of <c>feature_store.json</c>.</summary>
public sealed class OnlineStoreDefinition
{
    public required string Name { get; init; }

    public required OnlineStoreKind Kind { get; init; }

    /// <summary>StackExchange.Redis's connection string (<c>host:port,password=…</c>); empty for the embedded store.</summary>
    public string ConnectionString { get; init; } = string.Empty;

    public RedisTopology RedisType { get; init; } = RedisTopology.Standalone;

    /// <summary>
    /// How long a read waits for the store before its rows count as unavailable: a request waiting
    /// on features has a deadline, and a server that went away can hold a command for seconds.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromMilliseconds(DefaultReadTimeoutMs);

    public const int DefaultReadTimeoutMs = 500;
}
