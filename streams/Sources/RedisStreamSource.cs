using LowLatency.Features.Definitions;
using StackExchange.Redis;

namespace LowLatency.Streams.Sources;

/// <summary>
/// A stream source on one Redis server: partition n is the stream <c>&lt;stream&gt;:&lt;n&gt;</c>, read
/// through the consumer group <c>group</c> (made at first use, from the stream's start). Members
/// announce themselves in a sorted set scored by when their heartbeat lapses (the server's clock);
/// partition p belongs to the member at p modulo the count in name order, so a join or a leave moves
/// the fewest partitions a modulo allows, and a partition changes hands only through its lease: the
/// old owner releases it after its last checkpoint (or its lease lapses), then the new owner takes it.
/// </summary>
public sealed class RedisStreamSource : IStreamSource
{
    private readonly IConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly string _group;
    private readonly long _leaseMs;
    private readonly HashSet<int> _groupsMade = [];

    private RedisStreamSource(IConnectionMultiplexer connection, StreamSource definition, string group, string member, long leaseMs)
    {
        _connection = connection;
        _db = connection.GetDatabase();
        Definition = definition;
        _group = group;
        Member = member;
        _leaseMs = leaseMs;
    }

    public StreamSource Definition { get; }

    public string Member { get; }

    public static async Task<RedisStreamSource> ConnectAsync(string connectionString, StreamSource definition, string group, string member, long leaseMs)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.ClientName ??= "lowlatency-streams";
        var connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        return new RedisStreamSource(connection, definition, group, member, leaseMs);
    }

    public async Task<IReadOnlySet<int>> HeartbeatAsync()
    {
        var members = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisStreamScripts.Heartbeat, [RedisStreamKeys.Members(Definition, _group)], [Member, _leaseMs]).ConfigureAwait(false))!;
        var names = members.Select(m => m.ToString()).Order(StringComparer.Ordinal).ToList();
        int me = names.IndexOf(Member);
        var mine = new HashSet<int>();
        for (int p = 0; p < Definition.Partitions; p++)
        {
            if (p % names.Count == me)
            {
                mine.Add(p);
            }
        }

        return mine;
    }

    public async Task<IPartitionLog?> TryAcquireAsync(int partition)
    {
        var keys = new RedisStreamKeys(Definition, _group, partition);
        if (_groupsMade.Add(partition))
        {
            try
            {
                await _db.StreamCreateConsumerGroupAsync(keys.Stream, _group, "0-0", createStream: true).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // Made by another member, or at an earlier start.
            }
        }

        long epoch = (long)await _db.ScriptEvaluateAsync(RedisStreamScripts.Acquire, [keys.Lease, keys.Epoch], [Member, _leaseMs]).ConfigureAwait(false);
        return epoch == 0 ? null : new RedisPartitionLog(_db, keys, _group, Member, partition, epoch, _leaseMs);
    }

    public async Task<long> LagAsync(int partition)
    {
        var keys = new RedisStreamKeys(Definition, _group, partition);
        foreach (var g in await _db.StreamGroupInfoAsync(keys.Stream).ConfigureAwait(false))
        {
            if (g.Name == _group)
            {
                return (g.Lag ?? -1) + g.PendingMessageCount;
            }
        }

        return -1;
    }

    public Task LeaveAsync() => _db.SortedSetRemoveAsync(RedisStreamKeys.Members(Definition, _group), Member);

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);
}
