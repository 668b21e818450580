using LowLatency.Engine.Config;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Time;
using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The scheduling thread of one model version (as Triton has one per model): drains the lock-free
/// submission queue, admits or refuses each request, fires timeouts from the timer wheel on time even
/// while every worker is busy with a long batch, and hands each free device worker the next batch as
/// soon as <see cref="BatchPolicy"/> says it should go.
/// </summary>
internal sealed class SchedulerThread<TWait> : ISchedulerThread, IDeadlineAhead
    where TWait : struct, IWaitStrategy
{
    /// <summary>Requests submitted but not yet taken in by the scheduling step, at most; more are refused (429).</summary>
    internal const int SubmissionCapacity = 1 << 16;

    private readonly ModelConfig _config;
    private readonly SubmissionQueue<InferenceRequest> _submissions = new(SubmissionCapacity);
    private readonly CancelList _cancels = new();
    private readonly ParkingSpot _spot = new();
    private readonly SchedulerState _core;
    private readonly ComputeEstimator _estimator;
    private readonly Thread _thread;
    private readonly Func<IBatchRunner> _runners;
    private readonly long _version;

    // The published workers: replaced whole (never written in place) by a thread holding the step,
    // so a step reads one consistent set; added workers are warmed before they are in it, removed
    // ones are out of it before they stop (SetWorkers).
    private IDeviceWorker[] _workers;

    // Threads reading _workers without holding the step (the scheduler thread's wake-ahead): a
    // removed worker is freed only once none of them can still be looking at the array it was in.
    private int _outsideReaders;

    // Set once the constructor's workers are started: later ones are started as they are made.
    private readonly bool _started;

    // Workers made so far, for thread names that stay unique as workers come and go.
    private int _made;
    private readonly TWait _wait;
    private readonly EngineThreading _threading;
    private readonly bool _realtimeWorkers;
    private readonly bool _callerRuns;
    private volatile bool _stopping;

    // Batches of one that their submitter ran itself; read by tests and the benchmark.
    private long _callerRunCount;

    // Who runs the scheduling step: 0 free, 1 held (by the scheduler thread or a submitter).
    private int _owner;

    // The CPU the step's holder took it on (Thread.GetCurrentProcessorId, so possibly stale): a
    // realtime worker must not spin against a holder it has preempted on its own core.
    private int _ownerCpu = -1;

    // The queue length after the last step, for threads deciding whether to take the step.
    private int _pendingApprox;

    // Workers becoming idle, counted: a step holder compares it before and after its step.
    private int _idleEvents;

    // When the parked scheduler thread will look again by itself; MinValue while it is awake
    // (it then looks again anyway, so nobody needs to wake it).
    private long _plannedWakeUs = long.MinValue;

    public SchedulerThread(ModelConfig config, long version, Func<IBatchRunner> runners, ComputeEstimator estimator, QosSettings qos, EngineThreading threading, TWait wait)
    {
        _config = config;
        _wait = wait;
        _threading = threading;
        _realtimeWorkers = threading.RealtimePriority > 0;
        _callerRuns = CallerMayRun(config, threading);
        _runners = runners;
        _version = version;
        _estimator = estimator;
        var workers = new List<IDeviceWorker>();
        for (int g = 0; g < config.InstanceGroups.Count; g++)
        {
            for (int i = 0; i < config.InstanceGroups[g].Count; i++)
            {
                workers.Add(NewWorker(g, i));
            }
        }

        _workers = [.. workers];
        _core = new SchedulerState(config, qos, estimator, _workers.Length, MonotonicClock.NowMicroseconds()) { DefaultMaxQueueSize = threading.DefaultMaxQueueSize };
        _thread = new Thread(Loop) { Name = ThreadName("sched", config.Name, version), IsBackground = true };
        foreach (var w in _workers)
        {
            w.Start();
        }

        _started = true;
        _thread.Start();
    }

    public int WorkerRestarts
    {
        get
        {
            int n = Volatile.Read(ref _retiredRestarts);
            foreach (var w in Volatile.Read(ref _workers))
            {
                n += w.Restarts;
            }

            return n;
        }
    }

    // Restarts of workers removed at run time, so the counter never goes down.
    private int _retiredRestarts;

    /// <summary>Workers published now: the ones the step hands batches to.</summary>
    public int WorkerCount => Volatile.Read(ref _workers).Length;

    public long BusyMicroseconds
    {
        get
        {
            long n = Volatile.Read(ref _retiredBusyUs);
            foreach (var w in Volatile.Read(ref _workers))
            {
                n += w.BusyMicroseconds;
            }

            return n;
        }
    }

    // Busy time of workers removed at run time, so the sum never goes down.
    private long _retiredBusyUs;

    public long WorkerHandles
    {
        get
        {
            long n = 0;
            foreach (var w in Volatile.Read(ref _workers))
            {
                n += w.LiveHandles;
            }

            return n;
        }
    }

    /// <summary>
    /// A new worker of instance group <paramref name="group"/> (its <paramref name="indexInGroup"/>-th),
    /// with its own runner (arenas) and its thread started, not yet published: no step hands it a
    /// batch until <see cref="Publish"/>. Its cores: the group's own when it names some, else the
    /// engine-wide round-robin of <c>WorkerCores</c>.
    /// </summary>
    public IDeviceWorker NewWorker(int group, int indexInGroup)
    {
        int n = Interlocked.Increment(ref _made) - 1;
        var g = _config.InstanceGroups[Math.Min(group, _config.InstanceGroups.Count - 1)];
        int[] cores = g.Cores.Count > 0 ? EngineThreading.CoresOf(g.Cores, indexInGroup, _threading.IntraOpThreads) : _threading.NextWorkerCores();
        // Thread names show up in dotnet-trace and top -H: say which model and instance.
        var worker = new DeviceWorker<TWait>(_config, _runners(), _estimator, this, _wait, ThreadName($"w{n}", _config.Name, _version), cores, _threading) { Group = group };
        if (_started)
        {
            // Made at run time: started here; the constructor's are started with the scheduler.
            worker.Start();
        }

        return worker;
    }

    /// <summary>Adds a started, warmed worker to the published set: the next step may hand it a batch.</summary>
    public void Publish(IDeviceWorker worker)
    {
        AcquireStep();
        IDeviceWorker[] grown = [.. _workers, worker];
        Volatile.Write(ref _workers, grown);
        _core.Workers = grown.Length;
        ReleaseAndLookAgain();
    }

    /// <summary>
    /// Takes the last published worker of instance group <paramref name="group"/> out of the set (none
    /// when it is the version's only worker): no step hands it a batch from then on. It may still be
    /// running one; <see cref="Retire"/> waits for that.
    /// </summary>
    public IDeviceWorker? Unpublish(int group)
    {
        AcquireStep();
        var workers = _workers;
        int at = -1;
        for (int i = workers.Length - 1; i >= 0 && workers.Length > 1; i--)
        {
            if (workers[i].Group == group)
            {
                at = i;
                break;
            }
        }

        if (at < 0)
        {
            ReleaseAndLookAgain();
            return null;
        }

        var removed = workers[at];
        var rest = new IDeviceWorker[workers.Length - 1];
        Array.Copy(workers, 0, rest, 0, at);
        Array.Copy(workers, at + 1, rest, at, rest.Length - at);
        Volatile.Write(ref _workers, rest);
        _core.Workers = rest.Length;
        ReleaseAndLookAgain();
        return removed;
    }

    /// <summary>
    /// Ends a worker no step can reach any more (unpublished, or never published): lets it finish
    /// the batch it holds, stops its thread, waits until no answer still reads its outputs and no
    /// thread still looks at the array it was in, then frees its arenas and buffers. Off the
    /// request path (the loader thread): it waits on clients writing their responses.
    /// </summary>
    public void Retire(IDeviceWorker worker)
    {
        while (!worker.IsIdle)
        {
            Thread.Sleep(1);
        }

        worker.Stop();
        while (worker.OutputsHeld || Volatile.Read(ref _outsideReaders) != 0)
        {
            Thread.Sleep(1);
        }

        Interlocked.Add(ref _retiredRestarts, worker.Restarts);
        Interlocked.Add(ref _retiredBusyUs, worker.BusyMicroseconds);
        worker.Dispose();
    }

    /// <summary>Holds the step from a control thread, as the scheduler thread takes it: yielding until it is free.</summary>
    private void AcquireStep()
    {
        while (Interlocked.CompareExchange(ref _owner, 1, 0) != 0)
        {
            Thread.Yield();
        }
    }

    /// <summary>
    /// After a change of the worker set: the step runs again at once, so that requests queued for
    /// lack of a worker go to an added one now, not at the next submission or timer.
    /// </summary>
    private void ReleaseAndLookAgain()
    {
        Interlocked.Increment(ref _idleEvents);
        Release();
        Drive(null);
        _spot.Signal();
    }

    /// <summary>Batches of one run by their submitter's own thread instead of a device worker's.</summary>
    public long CallerRunCount => Volatile.Read(ref _callerRunCount);

    /// <summary>
    /// Caller runs only where the device's work may run on any thread: the CPU (work for a GPU stays on
    /// its device thread, which owns its stream and context), and not where the workers were given
    /// cores or realtime priority, which say where and how the model must run.
    /// </summary>
    private static bool CallerMayRun(ModelConfig config, EngineThreading threading)
    {
        if (!threading.CallerRuns || threading.WorkerCores.Count > 0 || threading.RealtimePriority > 0)
        {
            return false;
        }

        foreach (var group in config.InstanceGroups)
        {
            if (group.Kind is not (InstanceKind.Cpu or InstanceKind.Auto) || group.Cores.Count > 0)
            {
                return false;
            }
        }

        return true;
    }

    public int QueueDepth => Volatile.Read(ref _pendingApprox);

    /// <summary>Realtime workers only read it; ordinary ones spin or yield to a holder on their core.</summary>
    private void NoteOwnerCpu()
    {
        if (_realtimeWorkers)
        {
            Volatile.Write(ref _ownerCpu, Thread.GetCurrentProcessorId());
        }
    }

    /// <summary>Whether a thread holds the scheduling step and took it on <paramref name="cpu"/>.</summary>
    public bool StepHeldOn(int cpu) => Volatile.Read(ref _owner) != 0 && Volatile.Read(ref _ownerCpu) == cpu;

    internal IDeviceWorker[] Workers => Volatile.Read(ref _workers);

    /// <summary>
    /// Lock-free: any request thread. The submitter runs the scheduling step itself when nobody else
    /// is (see <see cref="Drive"/>): with a free worker and nothing to wait for, its request goes
    /// straight to the worker and the scheduler thread sleeps on. A thread-pool submitter whose
    /// request is a batch of one alone in the queue, with a worker idle, runs it itself (caller
    /// runs) and returns with it answered: the worker's wake-up and the completion's hand-off back
    /// to the pool were most of a lone request's cost beside the model (7–20 µs each on a shared
    /// 2-core VM, docs/performance.md#caller-runs). Anything else, and everything under load, goes
    /// to the device threads as before.
    /// </summary>
    public void Submit(InferenceRequest request)
    {
        request.ArrivalUs = MonotonicClock.NowMicroseconds();
        if (!_submissions.TryEnqueue(request))
        {
            request.Fail(InferenceStatus.Rejected, $"model '{_config.Name}': {SubmissionCapacity} requests are already waiting to be scheduled");
            return;
        }

        // Pool threads only: warm-up's loader thread and the engine's own threads keep their state,
        // and a warm-up request must exercise the worker that serves later.
        bool mayRun = _callerRuns && !request.IsWarmUp && Thread.CurrentThread.IsThreadPoolThread;
        Drive(mayRun ? request : null);
    }

    /// <summary>
    /// Lock-free: any thread, once per cancelled request. Only the step's holder may unlink a request
    /// and cancel its timers, so the request goes onto the cancel list, and the step runs here if it
    /// is free; if not, its holder sees the list when it looks again after releasing (as it sees new
    /// submissions), so the cancel is taken in at the next step either way.
    /// </summary>
    public void Cancel(InferenceRequest request)
    {
        _cancels.Push(request);
        Drive(null);
    }

    /// <summary>
    /// Called by a worker that became free: if anything is queued, it takes the step itself and so
    /// usually hands the next batch to itself, with no wake-up at all. Returns when the last step
    /// it ran wants to look again (a batching window's end), or MaxValue when it ran none.
    /// </summary>
    public long OnWorkerIdle()
    {
        // Counted before trying the step: a holder that started its step before this sees the
        // count change when it looks again after releasing, and runs another step for this worker.
        Interlocked.Increment(ref _idleEvents);
        if (Volatile.Read(ref _pendingApprox) != 0 || !_submissions.IsEmpty)
        {
            return Drive(null);
        }

        if (_stopping)
        {
            _spot.Signal();
        }

        return long.MaxValue;
    }

    /// <summary>Refuses nothing already submitted: queued requests are batched at once, answered, then the threads end.</summary>
    public void Stop()
    {
        _stopping = true;
        _spot.Signal();
        _thread.Join();
        foreach (var w in _workers)
        {
            w.Stop();
        }
    }

    /// <summary>
    /// Runs the scheduling step if no other thread is (a try-acquire: never a wait, so submission
    /// stays lock-free). After releasing, the holder looks again, so work that arrived while it held
    /// the step is never left behind: either it takes the step again, or whoever holds it now will.
    /// When the step leaves a timer earlier than the scheduler thread's planned wake-up, the
    /// scheduler thread is woken to keep it. Returns the last step's next timer, or MaxValue when it
    /// ran none. <paramref name="own"/>: the request this thread just submitted, when it may run it
    /// itself; the batch runs after the step is released, so that others admit and queue meanwhile.
    /// </summary>
    private long Drive(InferenceRequest? own)
    {
        long wake = long.MaxValue;
        while (Interlocked.CompareExchange(ref _owner, 1, 0) == 0)
        {
            NoteOwnerCpu();
            int idleEvents = Volatile.Read(ref _idleEvents);
            var workers = _workers;
            wake = Step(workers, MonotonicClock.NowMicroseconds(), own, out ulong handed, out var claimed);
            Release();
            WakeHanded(workers, handed);
            if (wake < Volatile.Read(ref _plannedWakeUs))
            {
                _spot.Signal();
            }

            if (claimed is not null)
            {
                // Becoming idle at its end drives the step again (OnWorkerIdle), for what queued meanwhile.
                own = null;
                Interlocked.Increment(ref _callerRunCount);
                claimed.RunOnCaller();
            }

            if (!MoreToDo(idleEvents))
            {
                break;
            }
        }

        return wake;
    }

    /// <summary>
    /// Releases the step with a full fence: the holder's next look at the queues must not be
    /// reordered before its release, or a submitter that failed to acquire (and left its request to
    /// the holder) could be missed by both.
    /// </summary>
    private void Release() => Interlocked.Exchange(ref _owner, 0);

    /// <summary>
    /// Whether the step must run again: something was submitted or cancelled, or a worker became idle
    /// since the step began (its own attempt may have failed while the step was held). Queued
    /// requests and an idle worker alone are not a reason: the step just decided they wait (a
    /// batching window), and looking again at once would spin a core for the whole window.
    /// </summary>
    private bool MoreToDo(int idleEventsAtStep) => !_submissions.IsEmpty || !_cancels.IsEmpty || Volatile.Read(ref _idleEvents) != idleEventsAtStep;

    /// <summary>The scheduler thread: keeps the timers (windows, timeouts) even while every worker is busy.</summary>
    private void Loop()
    {
        _threading.ApplyToCurrentThread();
        while (true)
        {
            if (Interlocked.CompareExchange(ref _owner, 1, 0) != 0)
            {
                // Another thread is running the step; it looks again when it releases.
                Thread.Yield();
                continue;
            }

            NoteOwnerCpu();
            int idleEvents = Volatile.Read(ref _idleEvents);
            var workers = _workers;
            long wake = Step(workers, MonotonicClock.NowMicroseconds(), null, out ulong handed, out _);
            bool done = _stopping && _core.Pending == 0 && _core.HeldForCancel == 0 && _submissions.IsEmpty && _cancels.IsEmpty && AllIdle(workers);
            Volatile.Write(ref _plannedWakeUs, wake);
            Release();
            WakeHanded(workers, handed);
            if (done)
            {
                return;
            }

            if (MoreToDo(idleEvents))
            {
                continue;
            }

            _wait.WaitForTimer(_spot, wake, this);
            Volatile.Write(ref _plannedWakeUs, long.MinValue);
        }
    }

    /// <summary>
    /// Wakes the workers a step handed batches to, once the step is released (realtime workers
    /// only): a realtime worker woken on the holder's core preempts the holder at once and runs its
    /// whole batch while the step stays held, so that no one else can admit or dispatch meanwhile.
    /// Ordinary workers are woken inside the step, where their wake-up overlaps the rest of it:
    /// waking them after the release measured worse at saturation (docs/performance.md#waking-workers).
    /// </summary>
    private static void WakeHanded(IDeviceWorker[] workers, ulong handed)
    {
        for (int i = 0; handed != 0; i++, handed >>= 1)
        {
            if ((handed & 1) != 0)
            {
                workers[i].Wake();
            }
        }
    }

    /// <summary>
    /// One scheduling step, by whichever thread holds <see cref="_owner"/>: take in cancels, admit
    /// what was submitted, fire due timers, hand batches to free workers. Returns when to look
    /// again (MaxValue: only when something happens), and in <paramref name="handed"/> the workers
    /// (bit i: worker i) the holder must wake after releasing the step. A batch that is exactly
    /// <paramref name="own"/>, with nothing else left queued, is claimed for the holder to run
    /// (<paramref name="claimed"/>) instead of handed over.
    /// </summary>
    private long Step(IDeviceWorker[] workers, long now, InferenceRequest? own, out ulong handed, out IDeviceWorker? claimed)
    {
        handed = 0;
        claimed = null;
        long freeAt = long.MaxValue;
        foreach (var w in workers)
        {
            freeAt = Math.Min(freeAt, w.IsIdle ? now : Math.Max(now, w.ExpectedFreeUs));
        }

        _core.WorkersFreeAtUs = freeAt;
        // Cancels before intake: a request submitted and cancelled since the last step is then
        // answered as it is taken in, rather than held for the next step.
        _core.ApplyCancels(_cancels.TakeAll());
        while (_submissions.TryDequeue(out var r))
        {
            _core.Admit(r, now);
        }

        _core.AdvanceTimers(now);
        _core.Draining = _stopping;
        long wake = long.MaxValue;
        for (int i = 0; i < workers.Length; i++)
        {
            var w = workers[i];
            if (!w.IsIdle)
            {
                continue;
            }

            var decision = _core.TryTakeBatch(now, w.IdleSinceUs, w.BatchBuffer);
            if (!decision.Send)
            {
                wake = decision.WaitUntilUs;
                break;
            }

            w.ExpectedFreeUs = now + _estimator.Estimate(decision.Rows);
            if (own is not null && decision.Count == 1 && _core.Pending == 0 && ReferenceEquals(w.BatchBuffer[0], own))
            {
                w.Claim(1);
                claimed = w;
                continue;
            }

            w.Run(decision.Count);
            if (_realtimeWorkers && i < 64)
            {
                handed |= 1UL << i;
            }
            else
            {
                // Ordinary workers, or past the mask (an instance group of more than 64 workers).
                w.Wake();
            }
        }

        // A full fence, paired with the worker's on becoming idle: of "queued, is a worker idle?" and
        // "idle, is anything queued?", at least one sees the other's write.
        Interlocked.Exchange(ref _pendingApprox, _core.Pending);

        // Timers read after dispatching: a request handed to a worker took its timers with it, and
        // must not wake the scheduler thread for a timeout that can no longer fire.
        return Math.Min(wake, _core.NextTimerUs);
    }

    public WakeLead Lead { get; } = new();

    /// <summary>
    /// Role first: Linux keeps 15 characters of a thread's name (what top -H, perf and /proc show),
    /// and "ll-ctr-ranker-v1-w0" and "-sched" both showed as "ll-ctr-ranker-v".
    /// </summary>
    internal static string ThreadName(string role, string model, long version) => $"ll-{role}.{model}.v{version}";

    /// <summary>
    /// On the scheduler thread, shortly before its next timer: if requests are queued (a window
    /// about to expire may send them), wake an idle worker now so that it is spinning, not parked,
    /// when the batch comes: a parked thread's wake-up takes tens of µs, a spinning one's about one
    /// (docs/performance.md#waking-workers). At the deadline the worker takes the

    /// step itself if nobody has handed it a batch (this thread may be late, or waiting behind a
    /// realtime worker on its own core); one woken for nothing spins until a spin margin past the
    /// deadline and parks again.
    /// </summary>
    void IDeadlineAhead.OnDeadlineAhead(long deadlineUs)
    {

        if (Volatile.Read(ref _pendingApprox) == 0)
        {
            return;
        }

        // Counted before reading the array, with a full fence: Retire sees either this count or, for
        // a reader that comes after it, an array without the worker it frees.
        Interlocked.Increment(ref _outsideReaders);
        foreach (var w in Volatile.Read(ref _workers))
        {
            if (w.IsIdle)
            {
                w.WakeAhead(deadlineUs);
                break;
            }
        }

        Interlocked.Decrement(ref _outsideReaders);
    }

    private static bool AllIdle(IDeviceWorker[] workers)
    {
        foreach (var w in workers)
        {
            if (!w.IsIdle)
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose()
    {
        foreach (var w in _workers)
        {
            w.Dispose();
        }

        _spot.Dispose();
    }
}
