using System.Diagnostics;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;
using LowLatency.Streams.Diagnostics;
using LowLatency.Streams.Events;
using LowLatency.Streams.Sinks;
using LowLatency.Streams.Sources;
using LowLatency.Streams.State;
using LowLatency.Streams.Windows;

namespace LowLatency.Streams.Processing;

/// <summary>
/// Computes a stream source's views over the partitions this process holds, on one dedicated thread
/// (<c>ll-stream</c>): never the thread pool's, never an engine device worker. Each turn of its loop
/// reads every owned partition (a read in flight per partition, polled with a short backoff when
/// empty), applies what arrived, fires windows by the combined watermark, hands rows to the store,
/// and checkpoints partitions whose interval is up. Processing time as the windows see it (when a
/// partition counts as idle, the wall clock of fire delays and watermark lags) comes from one
/// <see cref="TimeProvider"/>, a manual one in tests; polls, checkpoints and leases run on the
/// monotonic clock, as Redis's expiry of a lease does.
/// <para>
/// The combined watermark is the minimum of the owned partitions' watermarks, leaving out partitions
/// idle for the source's idle timeout, and never moves back (Flink's rule for a source reading several
/// splits; with every partition idle it holds). It decides only when a window is first written; what
/// is written follows from each partition's own order (<see cref="PartitionEngine"/>).
/// </para>
/// </summary>
public sealed class StreamProcessor : IPartitionGauges, IAsyncDisposable
{
    /// <summary>Rows waiting for the store past which reading pauses, so memory stays bounded when the store is slower than the stream.</summary>
    private const long MaxRowBacklog = 100_000;

    /// <summary>Batches a partition may hold beyond its checkpoint in flight before its reading pauses.</summary>
    private const int MaxUncommittedBatches = 10;

    private readonly StreamProcessorOptions _options;
    private readonly IStreamSource _source;
    private readonly OnlineStoreSink _sink;
    private readonly TimeProvider _time;
    private readonly EventSchema _schema;
    private readonly ViewProgram[] _views;
    private readonly Dictionary<int, PartitionWorker> _owned = [];

    // The owned workers as an array, made again only when ownership changes: each turn iterates it
    // without allocating, and may drop a worker from _owned as it goes.
    private PartitionWorker[] _workers = [];
    private readonly List<KeyState> _dirty = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Action _wakeUp;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile (int Partition, long WatermarkLagMs, long ConsumerLag, long Keys, long StateBytes)[] _gauges = [];
    private Thread? _thread;
    private long _nextHeartbeat;
    private long _nextLag;

    public StreamProcessor(StreamProcessorOptions options, StreamSource source, IStreamSource log, IOnlineStore store, TimeProvider? time = null)
    {
        _options = options;
        _source = log;
        _time = time ?? TimeProvider.System;
        _sink = new OnlineStoreSink(store, _time);
        _schema = new EventSchema(source);
        _views = source.Views.Select((v, i) => new ViewProgram(v, i, _schema)).ToArray();
        _wakeUp = _wake.Set;
        if (_views.Length == 0)
        {
            throw new ArgumentException($"no feature view is computed from the stream source \"{source.Name}\"", nameof(source));
        }
    }

    /// <summary>The combined watermark so far (ms); <see cref="long.MinValue"/> before any.</summary>
    public long CombinedWatermark { get; private set; } = long.MinValue;

    /// <summary>The partitions held now.</summary>
    public IReadOnlyCollection<int> Owned { get; private set; } = [];

    /// <summary>Entries applied since start, and checkpoints committed (for tests and the runner's report).</summary>
    public long Entries { get; private set; }

    public long Checkpoints { get; private set; }

    public long RowsWritten => _sink.Written;

    /// <summary>Set when the loop stopped on an error it could not go on from.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Told of <see cref="Failure"/> as the loop stops on it (the hosted service logs it); null: nobody.</summary>
    public Action<Exception>? Failed { get; init; }

    /// <summary>Completes when the loop has ended: stopped, or on <see cref="Failure"/>.</summary>
    public Task Completion => _stopped.Task;

    public void Start()
    {
        StreamMetrics.Register(this);
        _thread = new Thread(Run) { Name = "ll-stream", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Checkpoints and releases every partition, leaves the group, and returns once the loop has ended.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_thread is not null)
        {
            await _stopped.Task.ConfigureAwait(false);
        }

        StreamMetrics.Unregister(this);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    public IReadOnlyList<(int Partition, long WatermarkLagMs, long ConsumerLag, long Keys, long StateBytes)> Partitions() => _gauges;

    private void Run()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    Turn();
                }
                catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
                {
                    // The server went away or timed out mid-step: every partition's state here may be
                    // ahead of its checkpoint, so all are dropped and taken again from their checkpoints
                    // once the leases (ours included) can be had.
                    _owned.Clear();
                    Refresh();
                    _stop.Token.WaitHandle.WaitOne(500);
                }
            }

            foreach (var worker in _owned.Values.ToList())
            {
                Give(worker, checkpoint: true);
            }

            _source.LeaveAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Failure = e;
            StreamMetrics.CountFailure();
            Failed?.Invoke(e);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void Turn()
    {
        long now = Stopwatch.GetTimestamp();
        if (now >= _nextHeartbeat)
        {
            Rebalance(now);
            _nextHeartbeat = now + Ticks(_options.LeaseMs / 3);
        }

        bool progressed = false;
        bool storeBehind = _sink.Backlog > MaxRowBacklog;
        foreach (var worker in _workers)
        {
            // Back-pressure: a partition whose checkpoint, or a store whose writes, fall behind the
            // stream stops being read until they catch up; entries wait in Redis, not in memory.
            bool behind = storeBehind || (worker.Committing is not null && worker.Delta.Consumed.Count >= MaxUncommittedBatches);
            if (worker.Read is null && now >= worker.NextPollAt && !behind)
            {
                var started = worker.Log.ReadAsync(_options.BatchSize);
                worker.Read = started;
                started.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_wakeUp);
            }

            if (worker.Read is { IsCompleted: true } read)
            {
                worker.Read = null;
                var batch = read.GetAwaiter().GetResult();
                if (batch.Count > 0)
                {
                    Apply(worker, batch, _time.GetTimestamp());
                    progressed = true;
                }
                else
                {
                    worker.PollBackoff = Math.Clamp(worker.PollBackoff * 2, Ticks(1) / 4, Ticks(_options.MaxPollMs));
                    worker.NextPollAt = now + worker.PollBackoff;
                }
            }
        }

        Fire(_time.GetTimestamp());
        _sink.Send();
        foreach (var worker in _workers)
        {
            if (worker.Committing is { IsCompleted: true } && !Harvest(worker, wait: false))
            {
                continue;
            }

            if (now - worker.LastCheckpointAt >= Ticks(_options.CheckpointIntervalMs) && worker.Delta.Consumed.Count > 0 && worker.Committing is null)
            {
                Checkpoint(worker, now);
            }
        }

        if (now >= _nextLag)
        {
            Gauges();
            _nextLag = now + Ticks(1000);
        }

        if (!progressed)
        {
            Wait();
        }
    }

    private void Apply(PartitionWorker worker, ISourceBatch batch, long now)
    {
        var engine = worker.Engine;
        var record = worker.Record;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.Read(i, record, out string? problem))
            {
                engine.Apply(record, i);
            }
            else
            {
                engine.DeadLetters.Add(new DeadLetter(i, null, problem!));
            }
        }

        foreach (var d in engine.DeadLetters)
        {
            worker.Delta.DeadLetters.Add(new DeadLetterEntry(batch, d.Entry, d.View, d.Reason));
        }

        int unreadable = 0;
        foreach (var d in engine.DeadLetters)
        {
            unreadable += d.View is null ? 1 : 0;
        }

        engine.DeadLetters.Clear();
        worker.Delta.Consumed.Add(batch);
        worker.LastEntryAt = now;
        worker.PollBackoff = 0;
        worker.NextPollAt = 0;
        Entries += batch.Count;
        var c = engine.Counters;
        var r = worker.Reported;
        StreamMetrics.RecordBatch(_source.Definition.Stream, c.Entries - r.Entries, c.Late - r.Late, c.Dropped - r.Dropped + unreadable, c.CapHits - r.CapHits);
        worker.Reported = c;
    }

    private void Fire(long now)
    {
        long combined = long.MaxValue;
        bool any = false;
        foreach (var worker in _owned.Values)
        {
            if (now - worker.LastEntryAt < _time.TimestampFrequency * _source.Definition.IdleTimeoutMs / 1000)
            {
                combined = Math.Min(combined, worker.Engine.Watermark);
                any = true;
            }
        }

        if (any && combined > CombinedWatermark)
        {
            CombinedWatermark = combined;
        }

        foreach (var worker in _owned.Values)
        {
            worker.Engine.Fire(CombinedWatermark, _sink);
            worker.Engine.Flush(_sink);
        }
    }

    // A checkpoint is taken on this thread (the dirty keys' state serialized, the rows emitted so far
    // handed to the store) and committed while the loop goes on: the commit waits for those rows to
    // be written, since a checkpoint that says a window was written must not be restored over a store
    // that never got the row. One checkpoint per partition is in flight at a time; its delta and bytes
    // are the worker's spares until it completes.
    private void Checkpoint(PartitionWorker worker, long now)
    {
        var delta = worker.Delta;
        var buffer = worker.Buffer;
        delta.MaxEventTime = worker.Engine.MaxEventTime;
        _dirty.Clear();
        worker.Engine.TakeDirty(_dirty);
        buffer.ResetWrittenCount();
        foreach (var key in _dirty)
        {
            string field = KeyStateCodec.Field(key.Key);
            if (key.Windows == 0)
            {
                delta.Deleted.Add(field);
                continue;
            }

            int from = buffer.WrittenCount;
            KeyStateCodec.Write(key, _views, buffer);
            delta.Set.Add((field, buffer.WrittenMemory[from..]));
        }

        (worker.Delta, worker.SpareDelta) = (worker.SpareDelta, delta);
        (worker.Buffer, worker.SpareBuffer) = (worker.SpareBuffer, buffer);
        worker.CommitStarted = Stopwatch.GetTimestamp();
        worker.Committing = CommitAfterAsync(_sink.Drain(), worker.Log, delta);
        worker.LastCheckpointAt = now;
    }

    private static async Task<bool> CommitAfterAsync(Task rows, IPartitionLog log, CheckpointDelta delta)
    {
        await rows.ConfigureAwait(false);
        bool committed = await log.CommitAsync(delta).ConfigureAwait(false);
        delta.Clear();
        return committed;
    }

    /// <summary>Takes the outcome of the checkpoint in flight; false when the lease was lost and the partition dropped.</summary>
    private bool Harvest(PartitionWorker worker, bool wait)
    {
        if (worker.Committing is not { } commit || (!wait && !commit.IsCompleted))
        {
            return true;
        }

        worker.Committing = null;
        if (!commit.GetAwaiter().GetResult())
        {
            // The lease is gone: the partition's state here is no one's any more.
            Drop(worker);
            return false;
        }

        Checkpoints++;
        StreamMetrics.RecordCheckpoint(Stopwatch.GetElapsedTime(worker.CommitStarted).TotalMilliseconds);
        return true;
    }

    // One round trip for the heartbeat and every renewal together: the loop waits for the network
    // once per lease period, not once per partition.
    private void Rebalance(long now)
    {
        var heartbeat = _source.HeartbeatAsync();
        var held = _owned.Values.ToList();
        var renewals = held.Select(w => w.Log.RenewAsync()).ToArray();
        var mine = heartbeat.GetAwaiter().GetResult();
        for (int i = 0; i < held.Count; i++)
        {
            bool renewed = renewals[i].GetAwaiter().GetResult();
            if (!mine.Contains(held[i].Log.Partition))
            {
                Give(held[i], checkpoint: renewed);
            }
            else if (!renewed)
            {
                Drop(held[i]);
            }
        }

        foreach (int p in mine)
        {
            if (!_owned.ContainsKey(p) && _source.TryAcquireAsync(p).GetAwaiter().GetResult() is { } log)
            {
                _owned.Add(p, Take(log, now));
            }
        }

        Refresh();
    }

    private void Refresh()
    {
        _workers = [.. _owned.Values];
        Owned = [.. _owned.Keys.Order()];
    }

    private PartitionWorker Take(IPartitionLog log, long now)
    {
        var checkpoint = log.LoadAsync().GetAwaiter().GetResult();
        var engine = new PartitionEngine(_views, _source.Definition.WatermarkDelayMs, _options.MaxKeyStateBytes);
        engine.Restore(checkpoint.MaxEventTime, checkpoint.Keys.Select(k => KeyStateCodec.Read(KeyStateCodec.Key(k.Field, _schema.StringKeys), k.Value, _views)));
        return new PartitionWorker(log, engine, _schema, now, _time.GetTimestamp());
    }

    private void Give(PartitionWorker worker, bool checkpoint)
    {
        WaitRead(worker);
        if (checkpoint && Harvest(worker, wait: true))
        {
            worker.Engine.Flush(_sink);
            Checkpoint(worker, Stopwatch.GetTimestamp());
            Harvest(worker, wait: true);
        }

        if (_owned.Remove(worker.Log.Partition))
        {
            Refresh();
            worker.Log.ReleaseAsync().GetAwaiter().GetResult();
        }
    }

    private void Drop(PartitionWorker worker)
    {
        WaitRead(worker);
        _owned.Remove(worker.Log.Partition);
        Refresh();
        worker.Committing?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        worker.Committing = null;
    }

    // A read in flight is let finish (its entries stay pending for whoever reads next).
    private static void WaitRead(PartitionWorker worker)
    {
        try
        {
            worker.Read?.GetAwaiter().GetResult();
        }
        catch (StackExchange.Redis.RedisException)
        {
            // Pending entries are claimed by the next owner.
        }

        worker.Read = null;
    }

    // The consumer lag is asked for without waiting: each answer lands in its worker when it comes.
    private void Gauges()
    {
        long wall = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var list = new List<(int, long, long, long, long)>();
        foreach (var worker in _owned.Values)
        {
            long wm = worker.Engine.Watermark;
            var target = worker;
            _ = _source.LagAsync(worker.Log.Partition).ContinueWith(
                t => target.ConsumerLag = t.IsCompletedSuccessfully ? t.Result : -1,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            list.Add((worker.Log.Partition, wm == long.MinValue ? -1 : wall - wm, worker.ConsumerLag, worker.Engine.KeyCount, worker.Engine.StateBytes));
        }

        _gauges = [.. list];
    }

    // Nothing arrived this turn: sleep until a read completes, or 1 ms at most so that polls,
    // checkpoints and timers stay on time. Never a spin: the two cores here are Redis's too.
    private void Wait()
    {
        foreach (var worker in _owned.Values)
        {
            if (worker.Read is { IsCompleted: true })
            {
                return;
            }
        }

        _wake.Wait(1);
        _wake.Reset();
    }

    private static long Ticks(long ms) => ms * Stopwatch.Frequency / 1000;
}
