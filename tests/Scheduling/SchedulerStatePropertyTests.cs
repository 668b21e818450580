using CsCheck;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

/// <summary>
/// The scheduling state against a deliberately naive reference model of Triton's dynamic batcher and
/// this server's QoS classes, written over a sorted list, under random arrivals, looks and
/// configurations: at every look the same decision (send or wait, why, how many, since or until
/// when), the same requests in the same order, the same timeouts; at the end every request admitted
/// is answered once.
/// </summary>
/// <remarks>
/// The estimator is left without measurements, so admission control and the hard-deadline caps
/// (which read the estimates) never act here; <see cref="SchedulerStateTests"/> covers them.
/// </remarks>
public sealed class SchedulerStatePropertyTests
{
    private const int MaxBatch = 6;
    private const int DefaultLevel = 2;

    // Levels as the scheduler numbers them: 0 QoS realtime, 1..3 Triton's priority levels, 4 QoS
    // throughput. Level 1 delays a request whose timeout passed; level 2 rejects it (504); level 3
    // holds three requests at most; the others use the default policy (no timeout, no bound).
    private const long DelayTimeout = 150;
    private const long RejectTimeout = 300;
    private const int Level3MaxQueue = 3;

    // QoS classes (window, deadline), chosen so that every rule meets every other within a few
    // hundred microseconds: realtime's zero window, a deadline that wins over a level's timeout or
    // loses to it.
    private static readonly (long Window, long Deadline) Realtime = (0, 400);
    private static readonly (long Window, long Deadline) Balanced = (80, 250);
    private static readonly (long Window, long Deadline) Throughput = (200, 1_000);

    private static readonly int[][] PreferredSizes = [[], [2, 4], [3], [2, 6]];

    /// <param name="Kind">0 or 1: a request arrives; 2: the scheduler looks.</param>
    /// <param name="Priority">The request's Triton priority: 1..3, or 0 for none (its QoS class or the default level decides).</param>
    /// <param name="Step">Microseconds from the previous operation (at least 1 before an arrival, so deadlines never tie).</param>
    /// <param name="FreeAgo">At a look: how long ago the worker became free.</param>
    private sealed record Op(int Kind, int Priority, QosClass Qos, int Rows, long Step, long FreeAgo);

    private sealed class Queued(InferenceRequest request, long seq, int level, int rows, long arrival, long window, long deadline, bool rejectOnTimeout)
    {
        public InferenceRequest Request { get; } = request;

        public long Seq { get; } = seq;

        public int Level { get; } = level;

        public int Rows { get; } = rows;

        public long Arrival { get; } = arrival;

        public long Window { get; } = window;

        public long WindowDeadline => Arrival + Window;

        /// <summary>When its timeout passes (0: none): the level's timeout, or its QoS class's deadline where that is earlier.</summary>
        public long Deadline { get; } = deadline;

        public bool RejectOnTimeout { get; } = rejectOnTimeout;

        /// <summary>Its timeout passed under a DELAY policy: it goes behind its level.</summary>
        public bool Delayed { get; set; }
    }

    private sealed record Expected(SendReason Reason, List<Queued> Batch, long EligibleUs, long WaitUntilUs);

    private static ModelConfig Config(long window, int[] preferred) => ModelConfigReader.Parse($$"""
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": {{MaxBatch}},
         "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [2]}],
         "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {
            "preferred_batch_size": [{{string.Join(", ", preferred)}}], "max_queue_delay_microseconds": {{window}},
            "priority_levels": 3, "default_priority_level": {{DefaultLevel}},
            "priority_queue_policy": {
                "1": {"timeout_action": "DELAY", "default_timeout_microseconds": {{DelayTimeout}} },
                "2": {"timeout_action": "REJECT", "default_timeout_microseconds": {{RejectTimeout}} },
                "3": {"max_queue_size": {{Level3MaxQueue}} }
            }
         },
         "qos": {
            "realtime": {"max_queue_delay_microseconds": {{Realtime.Window}}, "deadline_microseconds": {{Realtime.Deadline}} },
            "balanced": {"max_queue_delay_microseconds": {{Balanced.Window}}, "deadline_microseconds": {{Balanced.Deadline}} },
            "throughput": {"max_queue_delay_microseconds": {{Throughput.Window}}, "deadline_microseconds": {{Throughput.Deadline}} }
         }
        }
        """, "property");

    [Fact]
    public void Batches_and_timeouts_match_the_reference_and_every_request_is_answered_once()
    {
        var step = Gen.Frequency((9, Gen.Long[0, 60]), (1, Gen.Long[0, 1_500]));
        var op = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], Gen.Enum<QosClass>(), Gen.Int[1, 3], step, Gen.Long[0, 100], (k, p, q, r, s, f) => new Op(k, p, q, r, s, f));
        var cases = Gen.Select(Gen.Bool, Gen.Int[0, PreferredSizes.Length - 1], op.Array[1, 150]);
        cases.Sample((zeroWindow, preferredIndex, ops) => Run(zeroWindow ? 0 : 100, PreferredSizes[preferredIndex], ops), iter: 500);
    }

    private static void Run(long defaultWindow, int[] preferred, Op[] ops)
    {
        var config = Config(defaultWindow, preferred);
        var scheduler = new SchedulerState(config, config.Qos, new ComputeEstimator(MaxBatch), 1, 0);
        var queue = new List<Queued>();
        var seqOf = new Dictionary<InferenceRequest, long>();
        var served = new HashSet<InferenceRequest>();
        var timedOut = new HashSet<InferenceRequest>();
        var batch = new InferenceRequest[MaxBatch];
        long now = 0, seq = 0;
        int admitted = 0;

        void Look(long freeAgo)
        {
            // Timeouts first, as the scheduler thread advances its timers before it decides.
            scheduler.AdvanceTimers(now);
            foreach (var q in queue.Where(q => q.Deadline != 0 && q.Deadline <= now && !q.Delayed).ToList())
            {
                if (q.RejectOnTimeout)
                {
                    Assert.Equal(InferenceStatus.DeadlineExceeded, q.Request.Status);
                    Assert.True(timedOut.Add(q.Request), "a request timed out twice");
                    queue.Remove(q);
                }
                else
                {
                    q.Delayed = true;
                }
            }

            Assert.Equal(queue.Count, scheduler.Pending);
            long workerFreeSince = Math.Max(0, now - freeAgo);
            var decision = scheduler.TryTakeBatch(now, workerFreeSince, batch);
            var expected = Decide(queue, preferred, now, scheduler.Draining);
            Assert.Equal(expected.Reason, decision.Reason);
            if (!decision.Send)
            {
                Assert.Equal(expected.WaitUntilUs, decision.WaitUntilUs);
            }
            else
            {
                var taken = batch[..decision.Count];
                Assert.Equal(expected.Batch.Select(q => q.Seq), taken.Select(r => seqOf[r]));
                Assert.Equal(expected.Batch.Sum(q => q.Rows), decision.Rows);
                Assert.True(decision.Rows <= MaxBatch);
                Assert.Equal(expected.EligibleUs, decision.EligibleUs);
                foreach (var r in taken)
                {
                    Assert.True(served.Add(r), "a request was served twice");
                    Assert.DoesNotContain(r, timedOut);
                    // Eligible once the batch was and a worker free, never later than now.
                    Assert.Equal(Math.Min(Math.Max(expected.EligibleUs, workerFreeSince), now), r.EligibleUs);
                    Assert.Equal(now, r.DispatchedUs);
                }

                queue.RemoveAll(q => served.Contains(q.Request));
            }

            // The scheduler may sleep until its next timer: never past a window or a timeout still to come.
            long nextTimer = NextTimer(queue, now);
            Assert.True(scheduler.NextTimerUs <= nextTimer, $"next timer at {scheduler.NextTimerUs}, after {nextTimer}");
            if (nextTimer == long.MaxValue)
            {
                Assert.Equal(long.MaxValue, scheduler.NextTimerUs);
            }
        }

        foreach (var o in ops)
        {
            if (o.Kind == 2)
            {
                now += o.Step;
                Look(o.FreeAgo);
                continue;
            }

            now += Math.Max(1, o.Step);
            var r = new InferenceRequest(config);
            r.AddInput(0, TensorDataType.FP32, [o.Rows, 2]);
            r.Validate();
            r.ArrivalUs = now;
            r.Priority = o.Priority;
            r.Qos = o.Qos;
            seqOf[r] = seq;
            var q = Admit(queue, r, seq++, o, now, defaultWindow);
            Assert.Equal(q is not null, scheduler.Admit(r, now));
            if (q is null)
            {
                Assert.Equal(InferenceStatus.Rejected, r.Status);
                continue;
            }

            queue.Add(q);
            admitted++;
        }

        // Drain: everything left goes at once, in priority order, each request once.
        scheduler.Draining = true;
        for (int looks = 0; queue.Count > 0; looks++)
        {
            Assert.True(looks <= admitted, "draining does not end");
            Look(0);
        }

        Assert.Equal(0, scheduler.Pending);
        Assert.Equal(admitted, served.Count + timedOut.Count);
    }

    /// <summary>Where a request queues, its window and its timeout; null when its level's queue is full.</summary>
    private static Queued? Admit(List<Queued> queue, InferenceRequest r, long seq, Op o, long now, long defaultWindow)
    {
        // A Triton priority in range names the level; otherwise the QoS class does, or the default level.
        int level = o.Priority is >= 1 and <= 3 ? o.Priority
            : o.Qos == QosClass.Realtime ? 0
            : o.Qos == QosClass.Throughput ? 4
            : DefaultLevel;
        if (level == 3 && queue.Count(q => q.Level == 3) >= Level3MaxQueue)
        {
            return null;
        }

        (long timeout, bool reject) = level switch
        {
            1 => (DelayTimeout, false),
            2 => (RejectTimeout, true),
            _ => (0L, true),
        };
        long deadline = timeout > 0 ? now + timeout : 0;
        long window = defaultWindow;
        if (o.Qos != QosClass.None)
        {
            var qos = o.Qos == QosClass.Realtime ? Realtime : o.Qos == QosClass.Throughput ? Throughput : Balanced;
            window = qos.Window;
            // A class's deadline is hard (rejected when it passes); it replaces a later level timeout.
            if (deadline == 0 || now + qos.Deadline <= deadline)
            {
                deadline = now + qos.Deadline;
                reject = true;
            }
        }

        return new Queued(r, seq, level, o.Rows, now, window, deadline, reject);
    }

    /// <summary>Triton's rules for the next batch, spelled out on a sorted list.</summary>
    private static Expected Decide(List<Queued> queue, int[] preferred, long now, bool draining)
    {
        // Priority order: level; within a level, arrival order, then the requests a DELAY timeout
        // put behind the others, in the order their timeouts passed.
        var ordered = queue.OrderBy(q => q.Level).ThenBy(q => q.Delayed).ThenBy(q => q.Delayed ? q.Deadline : q.Seq).ToList();
        if (ordered.Count == 0)
        {
            return new Expected(SendReason.None, [], 0, long.MaxValue);
        }

        // Grow the batch in that order up to max_batch_size rows; the first request that does not
        // fit closes it. Remember the largest preferred size passed on the way.
        var batch = new List<Queued>();
        int rows = 0, preferredCount = 0;
        Queued? blocker = null;
        foreach (var q in ordered)
        {
            if (rows == MaxBatch)
            {
                break;
            }

            if (rows + q.Rows > MaxBatch)
            {
                blocker = q;
                break;
            }

            batch.Add(q);
            rows += q.Rows;
            if (preferred.Contains(rows))
            {
                preferredCount = batch.Count;
            }
        }

        long lastArrival = batch.Max(q => q.Arrival);
        if (rows == MaxBatch)
        {
            return new Expected(SendReason.Full, batch, lastArrival, 0);
        }

        if (blocker is not null)
        {
            return new Expected(SendReason.Full, batch, Math.Max(lastArrival, blocker.Arrival), 0);
        }

        // A window of zero (max_queue_delay_microseconds 0, or QoS realtime) means "do not wait",
        // which is not an expired window: as in Triton, a preferred size formed still limits the batch.
        var waiting = batch.Where(q => q.Window > 0).ToList();
        var immediate = batch.Where(q => q.Window == 0).ToList();
        long earliestWindow = waiting.Count > 0 ? waiting.Min(q => q.WindowDeadline) : long.MaxValue;
        bool expired = earliestWindow <= now;
        if (preferredCount > 0 && !expired)
        {
            var formed = batch[..preferredCount];
            return new Expected(SendReason.Preferred, formed, formed.Max(q => q.Arrival), 0);
        }

        // Past the largest preferred size, waiting cannot form one.
        if (preferred.Length > 0 && rows >= preferred.Max())
        {
            return new Expected(SendReason.Full, batch, lastArrival, 0);
        }

        if (expired || immediate.Count > 0)
        {
            long since = Math.Min(earliestWindow, immediate.Count > 0 ? immediate.Min(q => q.Arrival) : long.MaxValue);
            return new Expected(SendReason.Window, batch, since, 0);
        }

        return draining
            ? new Expected(SendReason.Drain, batch, now, 0)
            : new Expected(SendReason.None, [], 0, earliestWindow);
    }

    /// <summary>The earliest window or timeout still to come.</summary>
    private static long NextTimer(List<Queued> queue, long now)
    {
        long next = long.MaxValue;
        foreach (var q in queue)
        {
            if (q.Window > 0 && q.WindowDeadline > now)
            {
                next = Math.Min(next, q.WindowDeadline);
            }

            if (q.Deadline > now)
            {
                next = Math.Min(next, q.Deadline);
            }
        }

        return next;
    }
}
