using System.Collections.Concurrent;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Tests.Features;

/// <summary>
/// An online store in a dictionary, for the near cache's tests: counts its reads, can hold them at a
/// gate until released, be unreachable, or fail.
/// </summary>
internal sealed class ScriptedStore : IOnlineStore
{
    private readonly ConcurrentDictionary<(FeatureView, EntityKey), (byte[] Values, long Time)> _rows = new();
    private TaskCompletionSource? _gate;
    private int _reads;
    private int _rowsRead;

    public int Reads => Volatile.Read(ref _reads);

    public int RowsRead => Volatile.Read(ref _rowsRead);

    public bool Unreachable { get; set; }

    public Exception? Failure { get; set; }

    /// <summary>Reads from now on wait until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _gate, null)?.SetResult();

    public void Put(FeatureView view, long id, byte[] values, long time) => _rows[(view, EntityKey.Of(id))] = (values, time);

    public async ValueTask ReadAsync(Memory<RowRead> rows, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        if (_gate is { } gate)
        {
            await gate.Task;
        }

        if (Failure is { } failure)
        {
            throw failure;
        }

        foreach (ref var row in rows.Span)
        {
            if (row.State != RowState.Pending)
            {
                continue;
            }

            Interlocked.Increment(ref _rowsRead);
            if (Unreachable)
            {
                row.State = RowState.Unavailable;
            }
            else if (_rows.TryGetValue((row.View, row.Entity), out var stored))
            {
                stored.Values.CopyTo(row.Destination);
                row.EventTimeMicros = stored.Time;
                row.State = RowState.Found;
            }
            else
            {
                row.State = RowState.NotFound;
            }
        }
    }

    public ValueTask WriteAsync(ReadOnlyMemory<RowWrite> rows, Memory<bool> written, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            var r = rows.Span[i];
            _rows[(r.View, r.Entity)] = (r.Values.ToArray(), r.EventTimeMicros);
            written.Span[i] = true;
        }

        return default;
    }
}
