namespace LowLatency.Tests.Features;

/// <summary>
/// The servers the online-store tests run against, each started when a test first asks for it:
/// Garnet in process (the embedded default), a redis-server, and a three-master Redis Cluster.
/// </summary>
public sealed class StoreFixtures : IDisposable
{
    private readonly Lazy<GarnetFixture> _garnet = new(() => new GarnetFixture());
    private readonly Lazy<RedisServerFixture> _redis = new(() => new RedisServerFixture());
    private readonly Lazy<RedisClusterFixture> _cluster = new(() => new RedisClusterFixture());

    public const string Garnet = "garnet";
    public const string Redis = "redis";
    public const string Cluster = "cluster";

    /// <summary>The kinds to run against: Garnet always, Redis and the cluster where redis-server is installed.</summary>
    public static TheoryData<string> Kinds() => RedisServerProcess.Installed ? new() { Garnet, Redis, Cluster } : new() { Garnet };

    public RedisServerFixture RedisServer => _redis.Value;

    public RedisClusterFixture RedisCluster => _cluster.Value;

    public IStoreFixture Get(string kind) => kind switch
    {
        Garnet => _garnet.Value,
        Redis => _redis.Value,
        Cluster => _cluster.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public void Dispose()
    {
        foreach (var fixture in new IDisposable?[] { _garnet.IsValueCreated ? _garnet.Value : null, _redis.IsValueCreated ? _redis.Value : null, _cluster.IsValueCreated ? _cluster.Value : null })
        {
            fixture?.Dispose();
        }
    }
}
