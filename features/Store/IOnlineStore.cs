namespace LowLatency.Features.Store;

/// <summary>
/// The online store's contract: rows of feature views by entity, read and written in batches.
/// </summary>
public interface IOnlineStore
{
    /// <summary>
    /// Reads every row of <paramref name="rows"/> (a <see cref="RowState.Pending"/> row is read; the
    /// others are left alone), copying each found row's values into its destination. A store
    /// asks its server once for all of them (one round trip, in parallel per cluster node), never
    /// once per row. A store that cannot be reached marks rows <see cref="RowState.Unavailable"/>
    /// rather than throwing, so one cluster node down fails only its own rows.
    /// </summary>
    ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes every row of <paramref name="rows"/> unless the store holds one for the same view and
    /// entity at the same or a later event time; <paramref name="written"/>[i] tells whether row i was
    /// written. Throws <see cref="OnlineStoreUnavailableException"/> when the store cannot be
    /// reached, after every row it could write was written: a write may be retried as it is.
    /// </summary>
    ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default);
}
