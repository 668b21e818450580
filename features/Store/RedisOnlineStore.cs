using LowLatency.Features.Definitions;
using StackExchange.Redis;

namespace LowLatency.Features.Store;

/// <summary>
/// The online store on Redis, Redis Cluster or Garnet through StackExchange.Redis: one string key
/// per (view, entity) (<see cref="RedisKeyLayout"/>) holding the row (<see cref="RowLayout"/>).
/// Reads are one MGET on a single server; on a cluster, one MGET per hash slot, all sent as one
/// batch that the multiplexer writes to each node's connection at once, so a read costs one round
/// trip to every node concerned, in parallel. Writes are one <see cref="PushScript"/> call per
/// <see cref="PushScript.MaxRowsPerCall"/> rows on a single server (per row on a cluster), sent as
/// one batch likewise.
/// </summary>
public sealed partial class RedisOnlineStore : IOnlineStore, IAsyncDisposable
{
    private readonly IConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly RedisKeyLayout _keys;
    private readonly bool _cluster;
    private readonly IDisposable? _server;
    private readonly TimeSpan _readTimeout;

    private RedisOnlineStore(string name, IConnectionMultiplexer connection, RedisKeyLayout keys, bool cluster, TimeSpan readTimeout, IDisposable? server)
    {
        _readTimeout = readTimeout;
        Name = name;
        _connection = connection;
        _db = connection.GetDatabase();
        _keys = keys;
        _cluster = cluster;
        _server = server;
    }

    public string Name { get; }

    public RedisKeyLayout Keys => _keys;

    /// <summary>The client's connection, for tests and diagnostics.</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <summary>
    /// Connects to the store <paramref name="definition"/> names: its server or cluster, or for the
    /// embedded kind a Garnet started now in this process (stopped with the store). A Redis that is
    /// down does not stop this: the client keeps reconnecting, and reads until then find rows
    /// unavailable. A Redis that answers must be of the declared <c>redis_type</c>.
    /// </summary>
    public static async Task<RedisOnlineStore> ConnectAsync(OnlineStoreDefinition definition, FeatureRepository repository)
    {
        EmbeddedGarnet? garnet = null;
        string connectionString = definition.ConnectionString;
        if (definition.Kind == OnlineStoreKind.Embedded)
        {
            garnet = EmbeddedGarnet.Start();
            connectionString = garnet.ConnectionString;
        }

        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(RedisOptions.For(connectionString)).ConfigureAwait(false);
            bool cluster = definition.RedisType == RedisTopology.Cluster;
            if (connection.IsConnected && IsCluster(connection) != cluster)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw new FeatureRepositoryException(
                    Path.Combine(repository.Directory, FeatureStoreFileReader.FileName),
                    $"online_stores.{definition.Name}.redis_type",
                    cluster ? "is \"redis_cluster\", but the server is not a cluster" : "is \"redis\", but the server is a Redis Cluster: say \"redis_cluster\"");
            }

            if (connection.IsConnected)
            {
                // The first commands of a process (and of an embedded Garnet: its own JIT) take far
                // longer than the read timeout; they are paid here, not by the first request.
                var db = connection.GetDatabase();
                await db.PingAsync().ConfigureAwait(false);
                await db.StringGetAsync([new RedisKey("{warm-up}:a"), new RedisKey("{warm-up}:b")]).ConfigureAwait(false);
            }

            return new RedisOnlineStore(definition.Name, connection, new RedisKeyLayout(repository), cluster, definition.ReadTimeout, garnet);
        }
        catch
        {
            garnet?.Dispose();
            throw;
        }
    }

    private static bool IsCluster(IConnectionMultiplexer connection)
    {
        foreach (var server in connection.GetServers())
        {
            if (server.IsConnected && server.ServerType == ServerType.Cluster)
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _server?.Dispose();
    }

    private static bool IsUnavailable(Exception e) => e is RedisException or TimeoutException;
}
