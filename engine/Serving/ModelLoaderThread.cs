using System.Collections.Concurrent;

namespace LowLatency.Engine.Serving;

/// <summary>
/// The one thread that loads, warms and unloads models, off the request path: loads run one at a
/// time, in the order asked, so two loads of a model never race and a slow warm-up never runs on a
/// request or thread-pool thread. On shutdown the work not yet started is answered at once with its
/// abandoned outcome (<see cref="Stop"/>), and the work running can be answered before it ends
/// (<see cref="Abandon"/>): a queue of loads must not hold the process past its drain deadline.
/// </summary>
internal sealed class ModelLoaderThread : IDisposable
{
    private readonly BlockingCollection<Work> _work = new();
    private readonly Thread _thread;
    // Guards the hand-over between the thread taking an item and Abandon answering the running one,
    // so that no item starts after Abandon looked (cold: once per load and once at shutdown).
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _abandon = new();
    private Work? _running;
    private volatile bool _stopped;
    private bool _abandoned;

    public ModelLoaderThread()
    {
        _thread = new Thread(Run) { Name = "ll-model-loader", IsBackground = true };
        _thread.Start();
    }

    /// <summary>
    /// Queues <paramref name="work"/>; the task completes with its result, or with
    /// <paramref name="abandoned"/>(started) if shutdown answers it first.
    /// </summary>
    public Task<T> Run<T>(Func<T> work, Func<bool, T> abandoned)
    {
        var item = new Work<T>(work, abandoned);
        try
        {
            _work.Add(item);
        }
        catch (InvalidOperationException)
        {
            // Stopped: nothing more is taken.
            item.Abandon(started: false);
        }

        return item.Task;
    }

    /// <summary>Work queued and not yet finished (a poll is skipped while one is pending).</summary>
    public int Pending => _work.Count;

    /// <summary>Whether the running work was answered before it ended (it may still be running).</summary>
    public bool Abandoned
    {
        get
        {
            lock (_gate)
            {
                return _abandoned;
            }
        }
    }

    /// <summary>Cancelled by <see cref="Abandon"/>: the running work stops at its next check (a load, between warm-up batches).</summary>
    public CancellationToken AbandonToken => _abandon.Token;

    /// <summary>Takes no more work and answers every queued item with its abandoned outcome; the running one goes on.</summary>
    public void Stop()
    {
        _stopped = true;
        _work.CompleteAdding();
        while (_work.TryTake(out var item))
        {
            item.Abandon(started: false);
        }
    }

    /// <summary>
    /// <see cref="Stop"/>, and the running work is answered now with its abandoned outcome; whatever
    /// it returns later is dropped, and <see cref="AbandonToken"/> asks it to stop early. Not waited
    /// for here: it may be inside libtorch for a while (<see cref="Join"/>).
    /// </summary>
    public void Abandon()
    {
        Stop();
        Work? running;
        lock (_gate)
        {
            _abandoned = true;
            running = _running;
        }

        running?.Abandon(started: true);
        _abandon.Cancel();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the thread to end (after <see cref="Stop"/>); whether it did.</summary>
    public bool Join(TimeSpan timeout) => Thread.CurrentThread == _thread || _thread.Join(timeout);

    private void Run()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            lock (_gate)
            {
                // Taken in the instant Stop began: not started, so answered as queued work is.
                _running = _stopped ? null : item;
            }

            if (_running is null)
            {
                item.Abandon(started: false);
                continue;
            }

            item.Execute();
            lock (_gate)
            {
                _running = null;
            }
        }
    }

    /// <summary>Stops (queued work is answered as abandoned), then waits for the running work unless it was abandoned.</summary>
    public void Dispose()
    {
        Stop();
        if (Thread.CurrentThread != _thread && !Abandoned)
        {
            _thread.Join();
        }
    }

    private abstract class Work
    {
        public abstract void Execute();

        public abstract void Abandon(bool started);
    }

    private sealed class Work<T>(Func<T> work, Func<bool, T> abandoned) : Work
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _done.Task;

        public override void Execute()
        {
            try
            {
                _done.TrySetResult(work());
            }
            catch (Exception e)
            {
                _done.TrySetException(e);
            }
        }

        public override void Abandon(bool started) => _done.TrySetResult(abandoned(started));
    }
}
