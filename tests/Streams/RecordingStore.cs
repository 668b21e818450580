using System.Collections.Concurrent;
using LowLatency.Features.Store;

namespace LowLatency.Tests.Streams;

/// <summary>An online store that records every row written before passing it on: each window's last revision, to compare every window with the reference.</summary>
internal sealed class RecordingStore(IOnlineStore inner) : IOnlineStore
{
    public ConcurrentDictionary<(string View, long Key, long End), (int Revision, byte[] Row)> Windows { get; } = new();

    public int Writes;

    public ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default) => inner.ReadAsync(rows, cancellationToken);

    public ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default)
    {
        foreach (var row in rows.Span)
        {
            Interlocked.Increment(ref Writes);
            var value = (row.Revision, row.Values.ToArray());
            Windows.AddOrUpdate((row.View.Name, row.Entity.Int64, row.EventTimeMicros / 1000), value, (_, old) => old.Revision >= row.Revision ? old : value);
        }

        return inner.WriteAsync(rows, written, cancellationToken);
    }
}
