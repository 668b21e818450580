namespace LowLatency.Features.Store;

/// <summary>
/// The write of rows, as a Lua script Redis runs atomically on the rows' own keys: each row is set
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
/// and the multiplexer shares one). A call of one row needs only its key, so it runs on any cluster node.
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
    /// <summary>Rows in one call on a single server: a script's per-call cost (about as much as a row's own work here) paid once for them.</summary>
    public const int MaxRowsPerCall = 128;

    /// <summary>
    /// KEYS: the rows' keys; ARGV: for each, the row then its TTL in ms. Returns one 1 (written) or 0
    /// (skipped) per key. On a cluster every key of a call must be in one slot, so there it is one
    /// row per call; on one server, up to <see cref="MaxRowsPerCall"/>.
    /// </summary>
    public const string Text = """
        local order = {16, 15, 14, 13, 12, 11, 10, 9, 2, 3, 4}
        local result = {}
        for k = 1, #KEYS do
          local new = ARGV[2 * k - 1]
          local write = 1
          local old = redis.call('GET', KEYS[k])
          if old and #old >= 16 and string.byte(old, 1) == string.byte(new, 1) and string.sub(old, 5, 8) == string.sub(new, 5, 8) then
            for _, i in ipairs(order) do
              local o, n = string.byte(old, i), string.byte(new, i)
              if n > o then break end
              if n < o or i == 4 then write = 0 break end
            end
          end
          if write == 1 then
            local ttl = tonumber(ARGV[2 * k])
            if ttl > 0 then
              redis.call('SET', KEYS[k], new, 'PX', ttl)
            else
              redis.call('SET', KEYS[k], new)
            end
          end
          result[k] = write
        end
        return result
        """;
}
