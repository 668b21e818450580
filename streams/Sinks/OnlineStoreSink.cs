using LowLatency.Features.Store;
using LowLatency.Streams.Diagnostics;
using LowLatency.Streams.Windows;

namespace LowLatency.Streams.Sinks;

/// <summary>
/// Window values to the online store through its own write path (the event-time compare-and-set
/// script): a row's event time is the window's end, its revision the events the window took. The
/// same revision of a window always carries the same value, so a row written again after a replay
/// is skipped, and a later revision replaces it. Rows are collected as windows fire and written in
/// batches, one after another; <see cref="Drain"/> hands a checkpoint the task that completes once
/// every row emitted so far is written. Used from the processor's thread only (the writes themselves
/// complete wherever the client completes them, on rows no longer touched here).
/// </summary>
public sealed class OnlineStoreSink(IOnlineStore store, TimeProvider time) : IWindowEmitter
{
    private List<RowWrite> _pending = [];
    private Task _writing = Task.CompletedTask;
    private long _written;
    private long _emitted;

    /// <summary>Rows handed to the store so far (for tests and benchmarks).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Rows emitted and not yet written: the processor stops reading while too many wait.</summary>
    public long Backlog => _emitted - Written;

    public void Emit(ViewProgram view, EntityKey key, WindowState window)
    {
        var row = new byte[view.View.RowBytes];
        WindowValues.Write(view, window, row);
        _pending.Add(new RowWrite(view.View, key, window.End * 1000, row, Math.Min(window.Events, RowLayout.MaxRevision)));
        _emitted++;
        StreamMetrics.RecordFireDelay(time.GetUtcNow().ToUnixTimeMilliseconds() - window.End);
    }

    /// <summary>Starts writing what was emitted unless a write is under way (what waits is picked up next time, in one batch).</summary>
    public void Send()
    {
        if (_pending.Count > 0 && _writing.IsCompleted)
        {
            Drain();
        }
    }

    /// <summary>Writes every row emitted so far after those already being written; the task completes when all are.</summary>
    public Task Drain()
    {
        if (_pending.Count > 0)
        {
            var rows = _pending;
            _pending = [];
            _writing = WriteAfterAsync(_writing, rows);
        }

        return _writing;
    }

    private async Task WriteAfterAsync(Task previous, List<RowWrite> rows)
    {
        await previous.ConfigureAwait(false);
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

        Interlocked.Add(ref _written, array.Length);
        StreamMetrics.RecordRows(array.Length);
    }
}
