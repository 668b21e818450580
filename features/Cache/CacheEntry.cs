using LowLatency.Features.Store;

namespace LowLatency.Features.Cache;

/// <summary>
/// One row as the near cache holds it: its values (null for "not found"), its event time, when it
/// was fetched and until when it may be served (monotonic timestamps of the cache's clock), and
/// the clock bits eviction uses. Immutable but for those bits.
/// </summary>
internal sealed class CacheEntry
{
    /// <summary>
    /// Bytes counted per entry beyond its values: the entry object, the dictionary's node, the
    /// clock queue's slot. An estimate, so that a cache of many small rows is bounded too.
    /// </summary>
    public const int Overhead = 160;

    /// <summary>The answer for rows whose store could not be asked; never stored in the cache.</summary>
    public static readonly CacheEntry Unavailable = new(default, null, 0, 0, 0);

    public CacheEntry(CacheKey key, byte[]? values, long eventTimeMicros, long fetchedAt, long expiresAt)
    {
        Key = key;
        Values = values;
        EventTimeMicros = eventTimeMicros;
        FetchedAt = fetchedAt;
        ExpiresAt = expiresAt;
        Cost = Overhead + (values?.Length ?? 0) + (key.Entity.String is { } s ? 24 + (2 * s.Length) : 0);
    }

    public CacheKey Key { get; }

    public byte[]? Values { get; }

    public long EventTimeMicros { get; }

    public long FetchedAt { get; }

    public long ExpiresAt { get; }

    public int Cost { get; }

    /// <summary>Set on a hit, cleared as eviction's clock hand passes: a row hit since the last pass is kept once more.</summary>
    public int Referenced;

    /// <summary>1 once the entry is out of the cache and its bytes no longer counted.</summary>
    public int Retired;

    /// <summary>Copies the row into <paramref name="row"/>'s destination, or marks it not found (or unavailable, for <see cref="Unavailable"/>).</summary>
    public void Serve(ref RowRead row)
    {
        if (ReferenceEquals(this, Unavailable))
        {
            row.State = RowState.Unavailable;
        }
        else if (Values is null)
        {
            row.State = RowState.NotFound;
        }
        else
        {
            Values.CopyTo(row.Destination.Span);
            row.EventTimeMicros = EventTimeMicros;
            row.State = RowState.Found;
        }
    }
}
