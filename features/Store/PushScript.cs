namespace LowLatency.Features.Store;

/// <summary>
/// The write of one row, as a Lua script Redis runs atomically on the row's own key: the row is set
/// unless the stored one has the same layout (version and fingerprint: header bytes 0 and 4–7) and
/// an (event time, revision) at or after the new one's. Event times are compared byte by byte from
/// the most significant (offset 15 down to 8, little-endian, never negative), then revisions (offset
/// 1 to 3, big-endian), which needs no number parsing and so runs the same on Redis's Lua 5.1 and
/// Garnet's Lua. A row at the same instant and revision is not rewritten, as Feast skips it, so a
/// replayed push changes nothing. Pushes carry revision 0; a stream view's late update of a window
/// it already wrote keeps the window's event time and raises the revision, so it replaces the row.
/// <para>
/// A script rather than WATCH/MULTI: one round trip, no retry loop under contention, and nothing for
/// StackExchange.Redis's shared connection to hold between commands (a WATCH belongs to a connection,
/// and the multiplexer shares one). It needs only its own key, so it runs on any cluster node.
/// Feast reads the stored timestamps and writes in a second round trip, leaving a window in which
/// an older row can win; here the compare and the set are one step.
/// </para>
/// <para>
/// The key's expiry is set with the row (<c>PX</c>, the view's TTL in ms; none when 0): Redis forgets
/// a row one TTL after the write that stored it. A skipped write leaves the newer row's expiry as it
/// is, which is the newer row's to keep.
/// </para>
/// </summary>
public static class PushScript
{
    public const string Text = """
        local new = ARGV[1]
        local old = redis.call('GET', KEYS[1])
        if old and #old >= 16 and string.byte(old, 1) == string.byte(new, 1) and string.sub(old, 5, 8) == string.sub(new, 5, 8) then
          for _, i in ipairs({16, 15, 14, 13, 12, 11, 10, 9, 2, 3, 4}) do
            local o, n = string.byte(old, i), string.byte(new, i)
            if n > o then break end
            if n < o or i == 4 then return 0 end
          end
        end
        local ttl = tonumber(ARGV[2])
        if ttl > 0 then
          redis.call('SET', KEYS[1], new, 'PX', ttl)
        else
          redis.call('SET', KEYS[1], new)
        end
        return 1
        """;
}
