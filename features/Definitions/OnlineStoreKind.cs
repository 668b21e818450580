namespace LowLatency.Features.Definitions;

/// <summary>What holds an online store's rows.</summary>
public enum OnlineStoreKind : byte
{
    /// <summary>Garnet, a Redis-protocol server, run inside this process on a loopback port.</summary>
    Embedded,

    /// <summary>A Redis server or Redis Cluster the connection string names.</summary>
    Redis,
}
