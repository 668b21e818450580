using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Time;
using LowLatency.Native.Threading;
using TorchSharp;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// A dedicated, named OS thread that runs the batches its scheduler hands it, on one device. Model
/// execution never runs on the .NET thread pool, and completions continue asynchronously, so no
/// ASP.NET code ever runs here. A batch that throws fails its requests (each is retried alone first,
/// so one bad request cannot fail the others) and the worker goes on; a worker thread that dies is
/// replaced by a new one and counted.
/// </summary>
internal sealed class DeviceWorker<TWait> : IDeviceWorker
    where TWait : struct, IWaitStrategy
{
    private readonly ModelConfig _config;
    private readonly IBatchRunner _executor;
    private readonly ComputeEstimator _estimator;
    private readonly ParkingSpot _spot = new();
    private readonly ISchedulerThread _scheduler;
    private readonly InferenceRequest[] _batch;
    private readonly List<BatchCompletion> _completions = [];
    private readonly string _name;
    private readonly int[] _cores;
    private readonly int _intraOpThreads;
    private readonly EngineThreading _threading;
    private readonly TWait _wait;
    private int _count;
    private int _assigned;
    private int _idle = 1;
    private long _idleSinceUs;
    private volatile bool _stopping;
    private Thread _thread;
    private int _restarts;
    private int _consecutiveDeaths;
    private long _aheadOfUs;
    private long _aheadToldUs;

    // Whether this thread runs under SCHED_FIFO (set and read on the worker thread only).
    private bool _realtime;

    public DeviceWorker(ModelConfig config, IBatchRunner runner, ComputeEstimator estimator, ISchedulerThread scheduler, TWait wait, string name, int[] cores, EngineThreading threading)
    {
        _threading = threading;
        _intraOpThreads = Math.Max(1, threading.IntraOpThreads);
        _config = config;
        _executor = runner;
        _estimator = estimator;
        _scheduler = scheduler;
        _wait = wait;
        _name = name;
        _cores = cores;
        _batch = new InferenceRequest[Math.Max(1, config.MaxBatchSize)];
        _idleSinceUs = MonotonicClock.NowMicroseconds();
        _thread = NewThread();
    }

    public Span<InferenceRequest> BatchBuffer => _batch;

    public bool IsIdle => Volatile.Read(ref _idle) == 1;

    public long IdleSinceUs => Volatile.Read(ref _idleSinceUs);

    public int Restarts => Volatile.Read(ref _restarts);

    public int Group { get; init; }

    public bool OutputsHeld => _executor.OutputsHeld;

    public long LiveHandles => _executor.LiveHandles;

    public long BusyMicroseconds => Volatile.Read(ref _busyUs);

    public bool Warming
    {
        get => Volatile.Read(ref _warming);
        set => Volatile.Write(ref _warming, value);
    }

    private bool _warming;

    // One writer at a time (the worker thread, or a caller running a claimed batch), read by the autoscaler.
    private long _busyUs;

    /// <summary>When the batch running is expected to end (µs); kept by the scheduler for admission control.</summary>
    public long ExpectedFreeUs { get; set; }

    /// <summary>Test hook: throws on the worker thread, outside any batch, to kill it.</summary>
    internal volatile bool InjectThreadDeath;

    public void Start() => _thread.Start();

    /// <summary>
    /// Hands the first <paramref name="count"/> requests of <see cref="BatchBuffer"/> to the worker
    /// (by the step's holder); <see cref="Wake"/> follows, within the step or, for realtime
    /// workers, once it is released.
    /// </summary>
    public void Run(int count)
    {
        _count = count;
        Volatile.Write(ref _idle, 0);
        Volatile.Write(ref _assigned, 1);
    }

    /// <summary>
    /// Takes the idle worker for a batch of one that the submitting thread runs itself: busy as if
    /// it ran, so the step hands it nothing else, but its thread is neither assigned nor woken.
    /// </summary>
    public void Claim(int count)
    {
        _count = count;
        Volatile.Write(ref _idle, 0);
    }

    /// <summary>
    /// The claimed batch, on the caller's thread, with this worker's executor (its arenas and views
    /// are plain memory; the worker thread, parked or spinning, touches none of it while claimed),
    /// in the thread state the worker runs in, and completed on this thread: the awaiting code finds
    /// the answer ready and continues without a hand-off. Then idle again, as after any batch.
    /// </summary>
    public void RunOnCaller()
    {
        try
        {
            CallerThreadTorch.Enter(_intraOpThreads);
            RunBatch(onCaller: true);
        }
        catch (Exception e)
        {
            // Only the thread state can throw here (RunBatch answers its own failures).
            for (int i = 0; i < _count; i++)
            {
                _batch[i]?.Fail(InferenceStatus.ModelError, $"model '{_config.Name}': the batch could not run on the request's thread: {e.Message}");
                _batch[i] = null!;
            }
        }

        BecomeIdle();
    }

    /// <summary>Wakes the worker for the batch <see cref="Run"/> handed it: a flag when it spins, a futex wake when parked.</summary>
    public void Wake() => _spot.Signal();

    /// <summary>
    /// Wakes the idle worker without work: it spins until <paramref name="deadlineUs"/>, takes the
    /// scheduling step itself then if no batch came, and spins a margin past it.
    /// </summary>
    public void WakeAhead(long deadlineUs)
    {
        // Stamped for TimeWakeAhead, before the deadline it goes with.
        Volatile.Write(ref _aheadToldUs, MonotonicClock.NowMicroseconds());
        Volatile.Write(ref _aheadOfUs, deadlineUs);
        _spot.Signal();
    }

    public void Stop()
    {
        _stopping = true;
        _spot.Signal();
        Volatile.Read(ref _thread).Join();
    }

    private Thread NewThread() => new(ThreadMain) { Name = _name, IsBackground = true };

    private void ThreadMain()
    {
        BackOffAfterDeaths();
        _threading.ApplyToCurrentThread();
        if (_cores.Length > 0)
        {
            ThreadTuning.PinToCores(_cores);
        }

        // Workers only: the scheduler thread spins near its timers, which at realtime priority
        // would hold a core against the request threads it serves. Refused: the load log says so.
        _realtime = _threading.RealtimePriority > 0 && ThreadTuning.UseRealtimePriority(_threading.RealtimePriority);

        try
        {
            // Grad mode is thread-local in libtorch: set once, for the thread's life. So is the
            // intra-op thread count in OpenMP builds (omp_set_num_threads sets the calling thread's
            // value): set on the loader thread only, this worker would fan every kernel out to all
            // cores, several times slower at batch 1 (docs/performance.md#intra-op-threads).
            using var inference = torch.inference_mode();
            torch.set_num_threads(_intraOpThreads);
            Loop();
        }
        catch (Exception e) when (!_stopping)
        {
            // The thread is dying outside a batch (a batch's own failure is handled in RunBatch):
            // answer whatever it held, count it, and carry on in a new thread.
            Interlocked.Increment(ref _restarts);
            if (Interlocked.Exchange(ref _assigned, 0) == 1)
            {
                for (int i = 0; i < _count; i++)
                {
                    _batch[i].Fail(InferenceStatus.ModelError, $"model '{_config.Name}': the device worker failed: {e.Message}");
                    _batch[i] = null!;
                }
            }

            // Idle first, then the replacement: only one thread of this worker ever runs this
            // handler or a batch. A batch the scheduler hands over meanwhile waits for the new thread.
            _consecutiveDeaths++;
            BecomeIdle();
            var replacement = NewThread();
            Volatile.Write(ref _thread, replacement);
            replacement.Start();
        }
    }

    /// <summary>
    /// A thread that dies again and again (libtorch that cannot start, say) is replaced after a
    /// growing pause, 10 ms doubling up to 1 s, instead of in a tight loop; a batch run resets it.
    /// </summary>
    private void BackOffAfterDeaths()
    {
        int deaths = _consecutiveDeaths;
        if (deaths > 1)
        {
            Thread.Sleep(Math.Min(1000, 10 << Math.Min(deaths - 2, 7)));
        }
    }

    private void Loop()
    {
        while (true)
        {
            if (Volatile.Read(ref _assigned) == 0)
            {
                if (_stopping)
                {
                    return;
                }

                long aheadOf = Volatile.Read(ref _aheadOfUs);
                if (aheadOf + _threading.SpinMicroseconds > MonotonicClock.NowMicroseconds())
                {
                    WaitAheadOf(aheadOf);
                }
                else if (_realtime && _scheduler.StepHeldOn(Thread.GetCurrentProcessorId()))
                {
                    // The step's holder was preempted on this core by this very thread (an ordinary
                    // thread cannot run here while a realtime one spins): spinning would hold off
                    // the hand-off it waits for, so park and let the holder finish.
                    SpinThenParkWaitStrategy.Park(_spot, long.MaxValue);
                }
                else
                {
                    _wait.Wait(_spot, long.MaxValue);
                    TimeWakeAhead();
                }

                continue;
            }

            if (InjectThreadDeath)
            {
                InjectThreadDeath = false;
                throw new InvalidOperationException("injected worker death");
            }

            RunBatch(onCaller: false);
            _consecutiveDeaths = 0;
            Volatile.Write(ref _assigned, 0);
            BecomeIdle();
        }
    }

    /// <summary>
    /// Woken ahead of a batching deadline: spin (no park) until it, then take the scheduling step
    /// if no batch came (the scheduler thread's own wake-up may be late, and a realtime worker on
    /// its core keeps it from running at all), then spin a margin past it for a hand-off. The
    /// deadline told may be early: the timer wheel keeps a timer beyond its first 256 µs in a
    /// coarser bucket and names that bucket's start. The step then names the window's exact end,
    /// and the worker spins on to it when it is within the wake-ahead lead, as the scheduler
    /// thread would have woken it for that anyway.
    /// </summary>
    private void WaitAheadOf(long deadlineUs)
    {
        long until = deadlineUs;
        while (true)
        {
            default(SpinWaitStrategy).Wait(_spot, until);
            if (Volatile.Read(ref _assigned) != 0 || _stopping)
            {
                break;
            }

            long next = _scheduler.OnWorkerIdle();
            if (Volatile.Read(ref _assigned) != 0 || next <= until || next - MonotonicClock.NowMicroseconds() > _scheduler.Lead.Microseconds)
            {
                break;
            }

            until = next;
        }

        if (Volatile.Read(ref _assigned) == 0)
        {
            default(SpinWaitStrategy).Wait(_spot, until + _threading.SpinMicroseconds);
        }

        // Done with this deadline: the loop must not come back to it (unless a new one was told
        // meanwhile), nor time its next wake-up from a tell this spin already answered.
        Interlocked.CompareExchange(ref _aheadOfUs, 0, deadlineUs);
        Volatile.Write(ref _aheadToldUs, 0);
    }

    /// <summary>
    /// After a wait that a tell ahead of a deadline ended: how long from the tell to running is what
    /// the lead must cover besides the scheduler thread's lateness. Taken here, not where the worker
    /// starts spinning ahead, so that a wake-up too late to spin ahead at all is counted too. A tell
    /// that races a batch handed to this worker at that moment (it checked the worker idle first)
    /// would time the batch as well: rare, one sample, and the peak forgets it.
    /// </summary>
    private void TimeWakeAhead()
    {
        long told = Interlocked.Exchange(ref _aheadToldUs, 0);
        if (told != 0)
        {
            _scheduler.Lead.RecordWorkerWake(MonotonicClock.NowMicroseconds() - told);
        }
    }

    private void BecomeIdle()
    {
        Volatile.Write(ref _idleSinceUs, MonotonicClock.NowMicroseconds());
        // A full fence between publishing "idle" and reading the queue length: a submitter that
        // saw us busy has published its queue length before waking the scheduler.
        Interlocked.Exchange(ref _idle, 1);
        _scheduler.OnWorkerIdle();
    }

    private void RunBatch(bool onCaller)
    {
        var batch = _batch.AsSpan(0, _count);
        long start = MonotonicClock.NowMicroseconds();
        try
        {
            _executor.Execute(batch);
            long end = MonotonicClock.NowMicroseconds();
            int rows = 0;
            foreach (var r in batch)
            {
                r.ExecStartUs = start;
                r.ExecEndUs = end;
                rows += r.BatchSize;
            }

            if (!_warming)
            {
                _estimator.Record(rows, end - start);
                Volatile.Write(ref _busyUs, _busyUs + (end - start));
            }
            // The batch's metric is recorded with its first request's completion, on the thread
            // pool: a metrics listener on the device thread delays every completion behind it
            // (docs/performance.md#metrics-sinks).
            batch[0].MetricBatchRows = rows;
            Complete(batch, onCaller);
        }
        catch (Exception) when (batch.Length > 1)
        {
            // One request's input may have made the whole batch fail: run each alone so the others
            // still get their answers and only the culprit gets the error.
            foreach (var r in batch)
            {
                RunAlone(r);
            }
        }
        catch (Exception e)
        {
            Fail(batch[0], e);
        }

        batch.Clear();
    }

    private void Complete(Span<InferenceRequest> batch, bool onCaller)
    {
        if (batch.Length == 1)
        {
            if (onCaller)
            {
                batch[0].CompleteOnThisThread();
            }
            else
            {
                batch[0].Complete();
            }

            return;
        }

        var completion = TakeCompletion();
        long now = MonotonicClock.NowMicroseconds();
        foreach (var r in batch)
        {
            r.Succeed(now);
            if (EngineTracing.Enabled)
            {
                // The batch's span is recorded with the requests the completion publishes: all of them.
                r.StopPoller();
            }
            else if (r.TryHandToPoller())
            {
                continue;
            }

            completion.Add(r);
        }

        completion.Queue();
    }

    /// <summary>A free batch completion; a new one only while every existing one is still being read (rare).</summary>
    private BatchCompletion TakeCompletion()
    {
        foreach (var c in _completions)
        {
            if (c.TryTake())
            {
                return c;
            }
        }

        var added = new BatchCompletion(_batch.Length);
        added.TryTake();
        _completions.Add(added);
        return added;
    }

    private void RunAlone(InferenceRequest r)
    {
        long start = MonotonicClock.NowMicroseconds();
        try
        {
            _executor.Execute(new ReadOnlySpan<InferenceRequest>(ref r));
            r.MetricBatchRows = r.BatchSize;
            r.ExecStartUs = start;
            r.ExecEndUs = MonotonicClock.NowMicroseconds();
            r.Complete();
        }
        catch (Exception e)
        {
            Fail(r, e);
        }
    }

    private void Fail(InferenceRequest r, Exception e)
    {
        r.ExecEndUs = MonotonicClock.NowMicroseconds();
        // A model rejects input it cannot take by raising ValueError (docs/configuration.md,
        // "Adding your own model"); anything else is a fault of the model or the server.

        string line = TorchScriptModel.FirstLine(e.Message);
        if (line.StartsWith("builtins.ValueError: ", StringComparison.Ordinal))
        {
            r.Fail(InferenceStatus.BadRequest, $"model '{_config.Name}' rejected the input: {line["builtins.ValueError: ".Length..]}");
        }
        else
        {
            r.Fail(InferenceStatus.ModelError, $"model '{_config.Name}' failed: {line}");
        }
    }

    public void Dispose()
    {
        _executor.Dispose();
        _spot.Dispose();
    }
}
