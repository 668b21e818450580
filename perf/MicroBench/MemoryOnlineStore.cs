using LowLatency.Features.Store;

namespace LowLatency.MicroBench;

/// <summary>An online store that finds every row it is asked for, at once: what the near cache sits in front of, without a server.</summary>
internal sealed class MemoryOnlineStore(byte[] row, long eventTimeMicros) : IOnlineStore
{
    public ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default)
    {
        foreach (ref var r in rows.Span)
        {
            row.AsSpan(0, r.View.RowBytes).CopyTo(r.Destination.Span);
            r.EventTimeMicros = eventTimeMicros;
            r.State = RowState.Found;
        }

        return default;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default) => default;
}
