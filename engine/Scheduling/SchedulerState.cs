using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The scheduling state of one model version, single-threaded and clock-free (every call takes the
/// time), so each rule can be tested with a fake clock: per-level FIFO queues with Triton's queue
/// policies, the timer wheel holding every batching window and timeout, admission control, and batch
/// formation by <see cref="BatchPolicy"/>.
/// </summary>
/// <remarks>
/// Levels, highest first: 0 is QoS realtime; 1..L are Triton's priority levels (L =
/// <c>priority_levels</c>, or 1); L+1 is QoS throughput. Within a level, requests whose timeout
/// passed under a DELAY policy go after the others, as in Triton.
/// </remarks>
internal sealed class SchedulerState
{
    private readonly ModelConfig _config;
    private readonly QosSettings _qos;
    private readonly ComputeEstimator _estimator;
    private int _workers;
    private readonly Level[] _levels;
    private readonly int _defaultLevel;
    private readonly long _defaultWindow;
    private readonly int[] _preferred;
    private readonly bool _canPad;
    private readonly TimerWheel _wheel;

    // Made once: answering a cancel allocates nothing.
    private readonly string _cancelledMessage;

    public SchedulerState(ModelConfig config, QosSettings qos, ComputeEstimator estimator, int workers, long nowUs)
    {
        _config = config;
        _qos = qos;
        _estimator = estimator;
        _workers = Math.Max(1, workers);
        var db = config.DynamicBatching;
        int tritonLevels = Math.Max(1, db?.PriorityLevels ?? 0);
        _levels = new Level[tritonLevels + 2];
        for (int i = 0; i < _levels.Length; i++)
        {
            var policy = db is null ? QueuePolicyConfig.Default
                : db.PriorityQueuePolicy.TryGetValue(i, out var p) ? p : db.DefaultQueuePolicy;
            _levels[i] = new Level(policy);
        }

        _defaultLevel = db is { PriorityLevels: > 0 } ? db.DefaultPriorityLevel : 1;
        _defaultWindow = db?.MaxQueueDelayMicroseconds ?? 0;
        _preferred = db is null ? [] : [.. db.PreferredBatchSize.Order().Distinct()];
        _canPad = config.Outputs.All(o => !o.HasVariableDims);
        _wheel = new TimerWheel(nowUs);
        _cancelledMessage = $"model '{config.Name}': cancelled by the client before it ran";
    }

    /// <summary>The workers admission control spreads queued work over; set by the step's holder when the set changes.</summary>
    public int Workers
    {
        get => _workers;
        set => _workers = Math.Max(1, value);
    }

    /// <summary>Requests queued (not yet handed to a worker).</summary>
    public int Pending { get; private set; }

    /// <summary>Requests taken in while their cancel was on its way (<see cref="InferenceRequest.CancelHeld"/>): answered once <see cref="ApplyCancels"/> sees them.</summary>
    public int HeldForCancel { get; private set; }

    /// <summary>The server's bound on each priority level's queue where the model's policy sets no <c>max_queue_size</c> (0: none).</summary>
    public int DefaultMaxQueueSize { get; init; }

    /// <summary>Set on shutdown: batches go without waiting for their windows.</summary>
    public bool Draining { get; set; }

    /// <summary>
    /// Queues a request, or refuses it at once (and completes it): queue full, deadline already
    /// passed, or a deadline the work ahead makes unreachable. True when queued.
    /// </summary>
    public bool Admit(InferenceRequest r, long nowUs)
    {
        if (r.CancelState != InferenceRequest.NotCancelled)
        {
            TakeInCancelled(r);
            return false;
        }

        int tritonLevels = _levels.Length - 2;
        r.Level = r.Priority >= 1 && r.Priority <= tritonLevels ? r.Priority
            : r.Qos == QosClass.Realtime ? 0
            : r.Qos == QosClass.Throughput ? tritonLevels + 1
            : _defaultLevel;
        var level = _levels[r.Level];
        var policy = level.Policy;

        int maxQueue = policy.MaxQueueSize > 0 ? policy.MaxQueueSize : DefaultMaxQueueSize;
        if (maxQueue > 0 && level.Queue.Count + level.Delayed.Count >= maxQueue)
        {
            QueueFull(r, maxQueue, policy.MaxQueueSize > 0 ? "max_queue_size" : "LowLatency:MaxQueueSize");
            return false;
        }

        // Triton's timeout: the level's default, which a request may only lower, where allowed.
        long timeout = policy.DefaultTimeoutMicroseconds;
        if (policy.AllowTimeoutOverride && r.TimeoutMicroseconds > 0 && (timeout == 0 || r.TimeoutMicroseconds < timeout))
        {
            timeout = r.TimeoutMicroseconds;
        }

        long window = _defaultWindow;
        // Deadlines count from when work on the request began: a feature join precedes arrival.
        long from = r.ArrivalUs - r.PrecedingMicroseconds;
        r.DeadlineUs = timeout > 0 ? from + timeout : 0;
        r.RejectOnTimeout = policy.TimeoutAction == TimeoutAction.Reject;
        r.AnswerDeadline = false;
        if (r.Qos != QosClass.None)
        {
            var q = _qos.For(r.Qos);
            window = q.WindowMicroseconds;
            if (q.DeadlineMicroseconds > 0 && (r.DeadlineUs == 0 || from + q.DeadlineMicroseconds <= r.DeadlineUs))
            {
                // A QoS deadline is hard: past it the answer is useless, so it is never delayed.
                r.DeadlineUs = from + q.DeadlineMicroseconds;
                r.RejectOnTimeout = true;
                r.AnswerDeadline = true;
            }
        }

        if (r.DeadlineMicroseconds > 0 && (r.DeadlineUs == 0 || from + r.DeadlineMicroseconds < r.DeadlineUs))
        {
            // The client's deadline (gRPC): it stops waiting then, so it is hard whatever the policy.
            r.DeadlineUs = from + r.DeadlineMicroseconds;
            r.RejectOnTimeout = true;
            r.AnswerDeadline = false;
        }

        if (r.DeadlineUs != 0 && r.RejectOnTimeout)
        {
            if (r.DeadlineUs <= nowUs)
            {
                r.Fail(InferenceStatus.DeadlineExceeded, $"model '{_config.Name}': the request's deadline passed before it was scheduled");
                return false;
            }

            // With nothing queued and a worker free, a request is the only way the estimates can
            // learn: refusing it on a stale, pessimistic estimate could refuse everything forever
            // (seen in a short overload run: every request refused, no batch ran to correct it).
            long estimate = EstimateCompletion(r, nowUs, window);
            bool probe = Pending == 0 && WorkersFreeAtUs <= nowUs;
            if (!probe && estimate > (HardDeadline(r) ?? r.DeadlineUs))
            {
                r.Fail(InferenceStatus.Rejected, $"model '{_config.Name}': cannot meet the request's deadline ({r.DeadlineUs - nowUs} µs away; the work ahead needs about {estimate - nowUs} µs)");
                return false;
            }
        }

        r.WindowDeadlineUs = r.ArrivalUs + window;
        level.Queue.Append(r);
        Pending++;
        if (_config.Batched && window > 0)
        {
            _wheel.Schedule(r.WindowTimer, r.WindowDeadlineUs);
        }

        if (r.DeadlineUs != 0)
        {
            _wheel.Schedule(r.TimeoutTimer, r.DeadlineUs);
        }

        return true;
    }

    /// <summary>
    /// Takes in the requests of a cancel list (<see cref="CancelList.TakeAll"/>): one still queued is
    /// unlinked, its timers cancelled, and answered <see cref="InferenceStatus.Cancelled"/>, as is one
    /// held at intake. Any other is still on its way in (its intake answers it, seeing it marked), or
    /// already in a batch or answered (too late: it completes as it would have); it is only marked
    /// seen, the last touch, since it may go back to its pool from then on.
    /// </summary>
    public void ApplyCancels(InferenceRequest? listed)
    {
        while (listed is { } r)
        {
            listed = r.CancelNext;
            r.CancelNext = null;
            if (r.QueueOwner is not null)
            {
                Dequeue(r);
                Cancelled(r);
            }
            else if (r.CancelHeld)
            {
                r.CancelHeld = false;
                HeldForCancel--;
                Cancelled(r);
            }
            else
            {
                r.SeeCancel();
            }
        }
    }

    /// <summary>
    /// A request whose cancel came before its intake: answered now if the step has seen the cancel;
    /// otherwise the cancel is still on its way to the list (or on it, behind this intake), and the
    /// request is held for the step that sees it: answered earlier, it could be disposed and rented
    /// again while still on the list.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TakeInCancelled(InferenceRequest r)
    {
        if (r.CancelState == InferenceRequest.CancelSeen)
        {
            r.Fail(InferenceStatus.Cancelled, _cancelledMessage);
            return;
        }

        r.CancelHeld = true;
        HeldForCancel++;
    }

    private void Cancelled(InferenceRequest r)
    {
        r.MarkCancelSeen();
        r.Fail(InferenceStatus.Cancelled, _cancelledMessage);
    }

    /// <summary>Fires due timers: a timed-out request is rejected (504) or, under DELAY, moved behind its level.</summary>
    public void AdvanceTimers(long nowUs)
    {
        var expire = new Expire(this);
        _wheel.Advance(nowUs, ref expire);
    }

    /// <summary>When the scheduler must look again at the latest: the next timer (a window or a timeout).</summary>
    public long NextTimerUs => _wheel.NextExpiry();

    /// <summary>
    /// Forms the next batch if one should go now, removing its requests from the queues into
    /// <paramref name="batch"/>. Otherwise returns a decision whose WaitUntilUs says when to look again.
    /// </summary>
    /// <param name="workerFreeSinceUs">When the worker that would run it became free: a batch is eligible no earlier.</param>
    public BatchDecision TryTakeBatch(long nowUs, long workerFreeSinceUs, Span<InferenceRequest> batch)
    {
        if (Pending != 0 && _estimator.Estimate(1) > 0)
        {
            DropHopeless(nowUs);
        }

        if (Pending == 0)
        {
            return default(BatchDecision) with { WaitUntilUs = long.MaxValue };
        }

        var policy = new BatchPolicy(_config.MaxBatchSize, _preferred);
        InferenceRequest? first = null;
        foreach (var level in _levels)
        {
            for (var list = level.Queue; list is not null; list = ReferenceEquals(list, level.Queue) ? level.Delayed : null)
            {
                for (var r = list.Head; r is not null && !policy.Saturated; r = r.QueueNext)
                {
                    first ??= r;
                    if (!_config.Batched || _config.DynamicBatching is null)
                    {
                        // As Triton: without a batch dimension, or without dynamic_batching, each
                        // request runs alone (at the client's own batch size), never joined with others.
                        policy.TryAdd(_config.Batched ? r.BatchSize : 1, r.ArrivalUs, r.ArrivalUs);
                        goto Decide;
                    }

                    policy.TryAdd(r.BatchSize, r.WindowDeadlineUs, r.ArrivalUs, _canPad || SameShapes(first, r));
                }
            }
        }

    Decide:
        var decision = policy.Decide(nowUs, Draining);
        if (!decision.Send)
        {
            return decision;
        }

        // Hard deadlines (QoS) cap the batch: a larger batch takes longer, and the batch goes only
        // as large as its earliest deadline allows (under overload, full batches answered every
        // request after its deadline). The rest waits for the next batch.
        int count = FeasibleCount(decision.Count, nowUs);
        long eligible = Math.Max(decision.EligibleUs, workerFreeSinceUs);
        int taken = 0, rows = 0;
        foreach (var level in _levels)
        {
            while (taken < count && (level.Queue.Head ?? level.Delayed.Head) is { } r)
            {
                Dequeue(r);
                r.EligibleUs = Math.Min(eligible, nowUs);
                r.DispatchedUs = nowUs;
                rows += _config.Batched ? r.BatchSize : 1;
                batch[taken++] = r;
            }
        }

        return decision with { Count = taken, Rows = rows };
    }

    /// <summary>
    /// Requests at the head of a level that could not meet their hard deadline even in a batch of
    /// their own are refused now (504) rather than run for an answer nobody can use.
    /// </summary>
    private void DropHopeless(long nowUs)
    {
        foreach (var level in _levels)
        {
            // The last request left is the probe that keeps the estimates honest (see Admit).
            while (Pending > 1 && (level.Queue.Head ?? level.Delayed.Head) is { } r && HardDeadline(r) is long deadline
                && nowUs + _estimator.EstimateHigh(_config.Batched ? r.BatchSize : 1) > deadline)
            {
                Dequeue(r);
                r.DispatchedUs = nowUs;
                LateAtDispatch(r, _estimator.EstimateHigh(_config.Batched ? r.BatchSize : 1));
            }
        }
    }

    /// <summary>How many of the next <paramref name="count"/> requests (in dispatch order) fit one batch that ends before each one's hard deadline.</summary>
    private int FeasibleCount(int count, long nowUs)
    {
        if (_estimator.Estimate(1) == 0)
        {
            return count;
        }

        int feasible = 0, rows = 0;
        long earliest = long.MaxValue;
        foreach (var level in _levels)
        {
            for (var list = level.Queue; list is not null; list = ReferenceEquals(list, level.Queue) ? level.Delayed : null)
            {
                for (var r = list.Head; r is not null && feasible < count; r = r.QueueNext)
                {
                    int more = rows + (_config.Batched ? r.BatchSize : 1);
                    long deadline = Math.Min(earliest, HardDeadline(r) ?? long.MaxValue);
                    if (feasible > 0 && deadline != long.MaxValue && nowUs + _estimator.EstimateHigh(more) > deadline)
                    {
                        return feasible;
                    }

                    (feasible, rows, earliest) = (feasible + 1, more, deadline);
                }
            }
        }

        return feasible;
    }

    /// <summary>
    /// The time a hard deadline's batch must end by: the deadline less a tenth of the request's
    /// budget, kept for what compute estimates do not see (the completion hop, the response; compute's
    /// own variance is in <see cref="ComputeEstimator.EstimateHigh"/>). Without it, overload left the
    /// admitted p99 just past the deadline (docs/performance.md#past-capacity).

    /// Only a QoS class's answer deadline counts; Triton's queue timeouts bound the wait, not the answer.
    /// </summary>
    private static long? HardDeadline(InferenceRequest r) => r.AnswerDeadline && r.DeadlineUs != 0 ? r.DeadlineUs - ((r.DeadlineUs - r.ArrivalUs) / 10) : null;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void QueueFull(InferenceRequest r, int max, string setting) =>
        r.Fail(InferenceStatus.Rejected, $"model '{_config.Name}': the queue of priority level {r.Level} is full ({setting} {max})");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LateAtDispatch(InferenceRequest r, long batchUs) =>
        r.Fail(InferenceStatus.DeadlineExceeded, $"model '{_config.Name}': the request's deadline is {Math.Max(0, r.DeadlineUs - r.DispatchedUs)} µs away and its batch needs about {batchUs} µs; refused before running");

    /// <summary>
    /// When the first worker is expected to be free (µs), set by the owner before admitting: now if
    /// one is idle, else the earliest expected end of the batches running.
    /// </summary>
    public long WorkersFreeAtUs { get; set; }

    /// <summary>
    /// When a request would complete if admitted now: the work in flight, then the rows queued at its
    /// level or above, in full batches spread over the workers, then its own batch. For an answer
    /// deadline (QoS), two things more. Its batch goes no earlier than it becomes eligible: at once
    /// when the rows queued with it fill a batch or form a preferred size, otherwise when the oldest
    /// of them (or itself, after <paramref name="window"/>) has waited out its batching window. And
    /// its batch counts two mean deviations beyond the mean, as the deadline must hold for most
    /// batches. Triton's queue timeouts, as in Triton, count only the work ahead: more arrivals may
    /// fill the batch sooner.
    /// </summary>
    private long EstimateCompletion(InferenceRequest r, long nowUs, long window)
    {
        long rows = r.BatchSize;
        long eligible = r.ArrivalUs + window;
        for (int i = 0; i <= r.Level; i++)
        {
            var level = _levels[i];
            rows += level.Queue.Rows + level.Delayed.Rows;
            eligible = Math.Min(eligible, Math.Min(level.Queue.Head?.WindowDeadlineUs ?? long.MaxValue, level.Delayed.Head?.WindowDeadlineUs ?? long.MaxValue));
        }

        int max = Math.Max(1, _config.MaxBatchSize);
        long full = rows / max;
        int rest = (int)(rows % max);
        long work = (full * _estimator.Estimate(max)) + (rest > 0 ? _estimator.Estimate(rest) : 0);
        long start = Math.Max(WorkersFreeAtUs, nowUs);
        if (!r.AnswerDeadline)
        {
            return start + (work / _workers);
        }

        if (_config.Batched && _config.DynamicBatching is not null && rows < max && !FormsPreferredSize(rows))
        {
            start = Math.Max(start, eligible);
        }

        return start + (work / _workers) + _estimator.Margin(rest > 0 ? rest : max);
    }

    private bool FormsPreferredSize(long rows)
    {
        foreach (int p in _preferred)
        {
            if (rows >= p)
            {
                return true;
            }
        }

        return false;
    }

    private bool SameShapes(InferenceRequest a, InferenceRequest b)
    {
        for (int i = 0; i < a.InputCount; i++)
        {
            if (!a.InputShape(i)[1..].SequenceEqual(b.InputShape(i)[1..]))
            {
                return false;
            }
        }

        return true;
    }

    private void Dequeue(InferenceRequest r)
    {
        r.QueueOwner!.Remove(r);
        _wheel.Cancel(r.WindowTimer);
        _wheel.Cancel(r.TimeoutTimer);
        Pending--;
    }

    private void OnTimeout(InferenceRequest r)
    {
        if (r.RejectOnTimeout)
        {
            Dequeue(r);
            r.Fail(InferenceStatus.DeadlineExceeded, $"model '{_config.Name}': the request timed out in the queue after {r.DeadlineUs - r.ArrivalUs} µs");
            return;
        }

        // DELAY: behind every request of its level that has not timed out.
        var level = _levels[r.Level];
        if (!r.Delayed)
        {
            r.Delayed = true;
            level.Queue.Remove(r);
            level.Delayed.Append(r);
        }
    }

    private readonly struct Expire(SchedulerState owner) : ITimerCallback
    {
        public void OnExpired(TimerNode node)
        {
            var timer = (RequestTimer)node;
            if (ReferenceEquals(timer, timer.Request.TimeoutTimer))
            {
                owner.OnTimeout(timer.Request);
            }

            // A window timer only wakes the scheduler: the batch decision reads the windows itself.
        }
    }

    private sealed class Level(QueuePolicyConfig policy)
    {
        public QueuePolicyConfig Policy { get; } = policy;

        public RequestList Queue { get; } = new();

        public RequestList Delayed { get; } = new();
    }
}
