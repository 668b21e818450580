using LowLatency.Features.Store;
using LowLatency.Streams.Diagnostics;
using LowLatency.Streams.Windows;

namespace LowLatency.Streams.Sinks;

/// <summary>
/// Window values to the online store through its own write path (the event-time compare-and-set
/// script): a row's event time is the window's end, its revision the events the window took. The
/// same revision of a window always carries the same value, so a row written again after a replay
/// is skipped, and a later revision replaces it. Rows are collected as windows fire and written in one
/// batch; a checkpoint waits until every row of the state it holds is written (<see cref="DrainAsync"/>).
/// </summary>
public sealed class OnlineStoreSink(IOnlineStore store, TimeProvider time) : IWindowEmitter
{
    private List<RowWrite> _pending = [];
    private List<RowWrite> _spare = [];
    private Task _writing = Task.CompletedTask;

    /// <summary>Rows handed to the store so far (for tests and benchmarks).</summary>
    public long Written { get; private set; }

    public void Emit(ViewProgram view, EntityKey key, WindowState window)
    {
        var row = new byte[view.View.RowBytes];
        WindowValues.Write(view, window, row);
        _pending.Add(new RowWrite(view.View, key, window.End * 1000, row, Math.Min(window.Events, RowLayout.MaxRevision)));
        StreamMetrics.RecordFireDelay(time.GetUtcNow().ToUnixTimeMilliseconds() - window.End);
    }

    /// <summary>Starts writing what was emitted, unless a write is under way (it is picked up by the next call).</summary>
    public void Send()
    {
        if (_pending.Count == 0 || !_writing.IsCompleted)
        {
            return;
        }

        _writing.GetAwaiter().GetResult();
        (_pending, _spare) = (_spare, _pending);
        _writing = WriteAsync(_spare);
    }

    /// <summary>Writes every row emitted so far and waits for them.</summary>
    public async Task DrainAsync()
    {
        await _writing.ConfigureAwait(false);
        if (_pending.Count > 0)
        {
            (_pending, _spare) = (_spare, _pending);
            _writing = WriteAsync(_spare);
            await _writing.ConfigureAwait(false);
        }
    }

    private async Task WriteAsync(List<RowWrite> rows)
    {
        var array = rows.ToArray();
        var written = new bool[array.Length];
        for (int delayMs = 50; ; delayMs = Math.Min(delayMs * 2, 1000))
        {
            try
            {
                // Rows already written are skipped as the same revision when retried.
                await store.WriteAsync(array, written).ConfigureAwait(false);
                break;
            }
            catch (OnlineStoreUnavailableException)
            {
                await Task.Delay(delayMs).ConfigureAwait(false);
            }
        }

        Written += array.Length;
        StreamMetrics.RecordRows(array.Length);
        rows.Clear();
    }
}
