namespace LowLatency.Streams.Sources;

/// <summary>
/// The Lua scripts of the Redis source: each runs as one atomic step on the server. Tokens are
/// <c>&lt;member&gt;/&lt;epoch&gt;</c>; the epoch only grows, so a token names one grant of the lease.
/// </summary>
internal static class RedisStreamScripts
{
    /// <summary>KEYS lease, epoch; ARGV member, ttl ms. The new epoch, or 0 while someone holds the lease.</summary>
    public const string Acquire = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local e = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[1] .. '/' .. e, 'PX', ARGV[2])
        return e
        """;

    /// <summary>KEYS lease; ARGV token, ttl ms. 1 when still held and extended.</summary>
    public const string Renew = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    /// <summary>KEYS lease; ARGV token.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 1
        """;

    /// <summary>KEYS members; ARGV member, ttl ms. Every live member, the caller included, by the server's clock.</summary>
    public const string Heartbeat = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        return redis.call('ZRANGE', KEYS[1], 0, -1)
        """;

    /// <summary>
    /// The checkpoint: KEYS lease, meta, state, stream, dead letters; ARGV token, group, position,
    /// largest event time, epoch, then the counts of deleted keys, set keys, acknowledged IDs and dead
    /// letters, then those lists (a dead letter as its pair count and pairs). Refused (0) unless the
    /// lease is still the caller's: the state, the position, the acknowledgements and the dead letters
    /// land together or not at all, and never from a process that lost the partition. Arguments go to
    /// commands in chunks: Lua's unpack has a stack limit.
    /// </summary>
    public const string Checkpoint = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        local nDel, nSet, nAck, nDead = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
        local a = 10
        for i = 0, nDel - 1, 500 do
          redis.call('HDEL', KEYS[3], unpack(ARGV, a + i, a + math.min(i + 500, nDel) - 1))
        end
        a = a + nDel
        for i = 0, nSet - 1, 250 do
          redis.call('HSET', KEYS[3], unpack(ARGV, a + 2 * i, a + 2 * math.min(i + 250, nSet) - 1))
        end
        a = a + 2 * nSet
        for i = 0, nAck - 1, 500 do
          redis.call('XACK', KEYS[4], ARGV[2], unpack(ARGV, a + i, a + math.min(i + 500, nAck) - 1))
        end
        a = a + nAck
        for d = 1, nDead do
          local n = tonumber(ARGV[a])
          redis.call('XADD', KEYS[5], '*', unpack(ARGV, a + 1, a + 2 * n))
          a = a + 1 + 2 * n
        end
        redis.call('HSET', KEYS[2], 'position', ARGV[3], 'max_event_time', ARGV[4], 'epoch', ARGV[5])
        return 1
        """;
}
