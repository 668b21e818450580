using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

/// <summary>The scheduling state machine with a fake clock: queues, priorities, policies, timeouts, admission.</summary>
public sealed class SchedulerStateTests
{
    private static ModelConfig Config(int maxBatch = 8, string batching = """{"preferred_batch_size": [4], "max_queue_delay_microseconds": 100}""", string dims = "[4]", string extra = "") =>
        ModelConfigReader.Parse($$"""
            {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": {{maxBatch}},
             "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": {{dims}}}],
             "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [1]}],
             "dynamic_batching": {{batching}} {{extra}}}
            """, "test");

    /// <summary>A validated one-row request of four floats, arrived at <paramref name="arrival"/>, in QoS class <paramref name="qos"/>.</summary>
    private static InferenceRequest OneRow(ModelConfig config, long arrival, QosClass qos)
    {
        var r = new InferenceRequest(config);
        r.AddInput(0, TensorDataType.FP32, [1, 4]);
        r.Validate();
        r.ArrivalUs = arrival;
        r.Qos = qos;
        return r;
    }

    private sealed class Harness(ModelConfig config, int workers = 1)
    {
        public ModelConfig Config { get; } = config;

        public ComputeEstimator Estimator { get; } = new(Math.Max(1, config.MaxBatchSize));

        public SchedulerState Scheduler { get; } = new(config, config.Qos, new ComputeEstimator(1), workers, 0);

        public InferenceRequest[] Batch { get; } = new InferenceRequest[Math.Max(1, config.MaxBatchSize)];

        public InferenceRequest Request(long arrival, int rows = 1, int priority = 0, long timeout = 0, QosClass qos = QosClass.None, long width = 4)
        {
            var r = new InferenceRequest(Config);
            r.AddInput(0, TensorDataType.FP32, Config.Batched ? [rows, width] : [width]);
            r.Validate();
            r.ArrivalUs = arrival;
            r.Priority = priority;
            r.TimeoutMicroseconds = timeout;
            r.Qos = qos;
            return r;
        }

        public InferenceRequest Admit(long now, int rows = 1, int priority = 0, long timeout = 0, QosClass qos = QosClass.None, long width = 4)
        {
            var r = Request(now, rows, priority, timeout, qos, width);
            Scheduler.Admit(r, now);
            return r;
        }

        public (BatchDecision Decision, InferenceRequest[] Taken) Take(long now, long workerFreeSince = 0)
        {
            Scheduler.AdvanceTimers(now);
            var d = Scheduler.TryTakeBatch(now, workerFreeSince, Batch);
            return (d, d.Send ? Batch[..d.Count].ToArray() : []);
        }
    }

    [Fact]
    public void Without_dynamic_batching_each_request_runs_alone_at_its_own_batch_size()
    {
        var config = ModelConfigReader.Parse("""
            {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
             "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [4]}],
             "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [1]}]}
            """, "test");
        var h = new Harness(config);
        var a = h.Admit(now: 100, rows: 3);
        var b = h.Admit(now: 101);
        var c = h.Admit(now: 102, rows: 2);
        var (d1, t1) = h.Take(103);
        var (d2, t2) = h.Take(104);
        var (d3, t3) = h.Take(105);
        Assert.Equal([a], t1);
        Assert.Equal(3, d1.Rows);
        Assert.Equal([b], t2);
        Assert.Equal([c], t3);
        Assert.Equal(2, d3.Rows);
        Assert.False(h.Take(106).Decision.Send);
    }

    [Fact]
    public void A_lone_request_waits_for_its_window_then_goes()
    {
        var h = new Harness(Config());
        var r = h.Admit(now: 1000);
        var (d, _) = h.Take(1050);
        Assert.False(d.Send);
        Assert.Equal(1100, d.WaitUntilUs);
        Assert.Equal(1100, h.Scheduler.NextTimerUs);
        (d, var taken) = h.Take(1100);
        Assert.Equal(SendReason.Window, d.Reason);
        Assert.Same(r, Assert.Single(taken));
        Assert.Equal(1100, r.EligibleUs);
        Assert.Equal(0, h.Scheduler.Pending);
        Assert.Equal(long.MaxValue, h.Scheduler.NextTimerUs);
    }

    [Fact]
    public void A_preferred_size_goes_before_the_window_and_the_rest_stays_queued()
    {
        var h = new Harness(Config());
        var rs = Enumerable.Range(0, 5).Select(i => h.Admit(now: i * 10)).ToArray();
        var (d, taken) = h.Take(45);
        Assert.Equal(SendReason.Preferred, d.Reason);
        Assert.Equal(rs[..4], taken);
        Assert.Equal(30, taken[0].EligibleUs);
        Assert.Equal(1, h.Scheduler.Pending);
        (d, taken) = h.Take(140);
        Assert.Same(rs[4], Assert.Single(taken));
    }

    [Fact]
    public void Max_batch_size_counts_rows_not_requests()
    {
        var h = new Harness(Config(maxBatch: 8, batching: """{"max_queue_delay_microseconds": 1000}"""));
        var a = h.Admit(0, rows: 5);
        var b = h.Admit(1, rows: 3);
        var c = h.Admit(2, rows: 1);
        var (d, taken) = h.Take(3);
        Assert.Equal(SendReason.Full, d.Reason);
        Assert.Equal([a, b], taken);
        Assert.Equal(8, d.Rows);
        Assert.Equal(1, h.Scheduler.Pending);
        _ = c;
    }

    [Fact]
    public void Eligibility_waits_for_a_free_worker()
    {
        var h = new Harness(Config());
        var r = h.Admit(now: 0);
        var (_, taken) = h.Take(now: 500, workerFreeSince: 450);
        Assert.Equal(450, Assert.Single(taken).EligibleUs);
        _ = r;
    }

    [Fact]
    public void Higher_priority_levels_are_served_first_FIFO_within_a_level()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 0, "priority_levels": 3, "default_priority_level": 2}"""));
        var low1 = h.Admit(0, priority: 3);
        var mid = h.Admit(1);
        var high = h.Admit(2, priority: 1);
        var low2 = h.Admit(3, priority: 3);
        var (_, taken) = h.Take(10);
        Assert.Equal([high, mid, low1, low2], taken);
    }

    [Fact]
    public void Out_of_range_priority_gets_the_default_level()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 0, "priority_levels": 2, "default_priority_level": 2}"""));
        var odd = h.Admit(0, priority: 9);
        var high = h.Admit(1, priority: 1);
        var (_, taken) = h.Take(10);
        Assert.Equal([high, odd], taken);
    }

    [Fact]
    public void QoS_realtime_goes_above_every_level_with_no_window_and_throughput_below()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 500, "priority_levels": 2, "default_priority_level": 1}"""));
        var bulk = h.Admit(0, qos: QosClass.Throughput);
        var normal = h.Admit(1, priority: 2);
        var rt = h.Admit(2, qos: QosClass.Realtime);
        // The realtime request's window is 0: the batch is eligible at once, with everything behind it.
        var (d, taken) = h.Take(2);
        Assert.Equal(SendReason.Window, d.Reason);
        Assert.Equal([rt, normal, bulk], taken);
    }

    [Fact]
    public void QoS_classes_use_their_windows()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 100}"""));
        h.Admit(0, qos: QosClass.Balanced);
        var (d, _) = h.Take(10);
        Assert.Equal(QosSettings.Default.Balanced.WindowMicroseconds, d.WaitUntilUs);
    }

    [Fact]
    public void A_full_queue_rejects_at_once()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 100, "default_queue_policy": {"max_queue_size": 2}}"""));
        h.Admit(0);
        h.Admit(1);
        var third = h.Admit(2);
        Assert.Equal(InferenceStatus.Rejected, third.Status);
        Assert.Contains("full (max_queue_size 2)", third.Error, StringComparison.Ordinal);
        Assert.Equal(2, h.Scheduler.Pending);
    }

    [Fact]
    public void REJECT_times_out_in_the_queue_on_time_and_never_reaches_a_batch()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 10000, "default_queue_policy": {"timeout_action": "REJECT", "default_timeout_microseconds": 300}}"""));
        var r = h.Admit(0);
        var keep = h.Admit(100, priority: 0);
        h.Scheduler.AdvanceTimers(299);
        Assert.Equal(InferenceStatus.Ok, r.Status);
        Assert.Equal(300, h.Scheduler.NextTimerUs);
        h.Scheduler.AdvanceTimers(300);
        Assert.Equal(InferenceStatus.DeadlineExceeded, r.Status);
        Assert.Equal(1, h.Scheduler.Pending);
        var (_, taken) = h.Take(10_100);
        Assert.DoesNotContain(r, taken);
        _ = keep;
    }

    [Fact]
    public void DELAY_moves_a_timed_out_request_behind_its_level()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 80, "default_queue_policy": {"timeout_action": "DELAY", "default_timeout_microseconds": 50}}"""));
        var old = h.Admit(0);
        Assert.Equal(50, h.Scheduler.NextTimerUs);
        h.Scheduler.AdvanceTimers(60);
        Assert.True(old.Delayed);
        var fresh = h.Admit(60);
        // At 100 the old request's window has expired; the fresh one has not timed out yet (110).
        var (_, taken) = h.Take(100);
        Assert.Equal([fresh, old], taken);
        Assert.Equal(InferenceStatus.Ok, old.Status);
    }

    [Theory]
    [InlineData(true, 200, 200)]   // override allowed and lower: taken
    [InlineData(true, 900, 500)]   // override higher than the default: ignored
    [InlineData(false, 200, 500)]  // override not allowed: ignored
    public void A_request_may_only_lower_its_timeout_where_allowed(bool allow, long requested, long effective)
    {
        string batching = """{"max_queue_delay_microseconds": 100000, "default_queue_policy": {"default_timeout_microseconds": 500, "allow_timeout_override": ALLOW}}""".Replace("ALLOW", allow ? "true" : "false", StringComparison.Ordinal);
        var h = new Harness(Config(batching: batching));
        var r = h.Admit(0, timeout: requested);
        h.Scheduler.AdvanceTimers(effective - 1);
        Assert.Equal(InferenceStatus.Ok, r.Status);
        h.Scheduler.AdvanceTimers(effective);
        Assert.Equal(InferenceStatus.DeadlineExceeded, r.Status);
    }

    [Theory]
    [InlineData(false, 0, 200, 200)]    // no policy timeout, no override allowed: the client's deadline holds
    [InlineData(false, 500, 200, 200)]  // earlier than the policy's default: taken
    [InlineData(false, 150, 200, 150)]  // later than the policy's default: the default stays
    public void A_clients_deadline_holds_whatever_the_queue_policy(bool allow, long policyTimeout, long clientDeadline, long effective)
    {
        string policy = policyTimeout == 0 ? "" : $$""", "default_queue_policy": {"default_timeout_microseconds": {{policyTimeout}}, "allow_timeout_override": {{(allow ? "true" : "false")}}, "timeout_action": "REJECT"}""";
        var h = new Harness(Config(batching: "{\"max_queue_delay_microseconds\": 100000" + policy + "}"));
        var r = h.Request(0);
        r.DeadlineMicroseconds = clientDeadline;
        Assert.True(h.Scheduler.Admit(r, 0));
        h.Scheduler.AdvanceTimers(effective - 1);
        Assert.Equal(InferenceStatus.Ok, r.Status);
        h.Scheduler.AdvanceTimers(effective);
        Assert.Equal(InferenceStatus.DeadlineExceeded, r.Status);
        Assert.Equal(0, h.Scheduler.Pending);
    }

    [Fact]
    public void A_deadline_already_past_gets_504_and_one_the_work_ahead_cannot_meet_gets_429()
    {
        var config = Config(maxBatch: 4, batching: """{"max_queue_delay_microseconds": 0}""");
        var estimator = new ComputeEstimator(4);
        estimator.Record(4, 2_000);
        estimator.Record(1, 1_000);
        var scheduler = new SchedulerState(config, config.Qos, estimator, 1, 0);
        InferenceRequest Make(long arrival, QosClass qos) => OneRow(config, arrival, qos);

        // Realtime: 5 ms deadline. Arrived 6 ms before the scheduler saw it.
        var late = Make(0, QosClass.Realtime);
        Assert.False(scheduler.Admit(late, 6_000));
        Assert.Equal(InferenceStatus.DeadlineExceeded, late.Status);

        // 8 rows of throughput work queued ahead at a higher level would not block a realtime one...
        for (int i = 0; i < 8; i++)
        {
            Assert.True(scheduler.Admit(Make(10_000, QosClass.None), 10_000));
        }

        var rt = Make(10_000, QosClass.Realtime);
        Assert.True(scheduler.Admit(rt, 10_000));

        // ...but a throughput request behind them all, with 8 ms of work ahead and a 5 ms budget, cannot make it.
        var tooMuch = Make(10_000, QosClass.Throughput);
        var tight = new QosSettings(QosSettings.Default.Realtime, QosSettings.Default.Balanced, new QosPolicy(0, 5_000));
        var scheduler2 = new SchedulerState(config with { Qos = tight }, tight, estimator, 1, 0);
        for (int i = 0; i < 9; i++)
        {
            scheduler2.Admit(Make(10_000, QosClass.None), 10_000);
        }

        Assert.False(scheduler2.Admit(tooMuch, 10_000));
        Assert.Equal(InferenceStatus.Rejected, tooMuch.Status);
        Assert.Contains("cannot meet the request's deadline", tooMuch.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Admission_counts_the_batching_window_a_request_would_wait_out_not_only_the_compute()
    {
        // Balanced: an 8 ms window in a 10 ms budget (9 ms with the tenth kept in reserve); a batch
        // of one row takes 2 ms, of four 3 ms; the worker is busy until 1 ms (so no request is let
        // through as the estimates' probe).
        var (config, scheduler) = BalancedWithBusyWorker(preferred: 4, windowUs: 0, (1, 2_000), (4, 3_000));

        // Alone, it would wait out its own window (8 ms) and end at about 10 ms: refused now, not at
        // dispatch. On compute alone (worker free at 1 ms + 2 ms) it would have been admitted.
        var alone = OneRow(config, 0, QosClass.Balanced);
        Assert.False(scheduler.Admit(alone, 0));
        Assert.Equal(InferenceStatus.Rejected, alone.Status);
        Assert.Contains("cannot meet the request's deadline", alone.Error, StringComparison.Ordinal);

        // Behind a request whose window has already ended (no window: eligible at once), it joins a
        // batch that goes as soon as the worker is free: about 1 + 2.3 ms, admitted.
        Assert.True(scheduler.Admit(OneRow(config, 0, QosClass.None), 0));
        Assert.True(scheduler.Admit(OneRow(config, 0, QosClass.Balanced), 0));
    }

    [Fact]
    public void Admission_counts_a_batch_that_forms_a_preferred_size_as_going_at_once()
    {
        var (config, scheduler) = BalancedWithBusyWorker(preferred: 2, windowUs: 8_000, (1, 2_000), (2, 2_500));

        // A default-class request waiting out its own 8 ms window: the balanced one that joins it
        // forms the preferred size of 2, so the batch goes when the worker is free (1 + 2.5 ms).
        Assert.True(scheduler.Admit(OneRow(config, 0, QosClass.None), 0));
        Assert.True(scheduler.Admit(OneRow(config, 0, QosClass.Balanced), 0));
    }

    /// <summary>
    /// Balanced QoS with an 8 ms window in a 10 ms deadline, max batch 8 with one preferred size and
    /// the model's own window (the default class's), compute measured as given, and the one worker
    /// busy until 1 ms (so no request is let through as the estimates' probe).
    /// </summary>
    private static (ModelConfig Config, SchedulerState Scheduler) BalancedWithBusyWorker(int preferred, long windowUs, params (int Rows, long Us)[] measured)
    {
        var qos = new QosSettings(QosSettings.Default.Realtime, new QosPolicy(8_000, 10_000), QosSettings.Default.Throughput);
        var config = Config(maxBatch: 8, batching: $$"""{"preferred_batch_size": [{{preferred}}], "max_queue_delay_microseconds": {{windowUs}}}""") with { Qos = qos };
        var estimator = new ComputeEstimator(8);
        foreach (var (rows, us) in measured)
        {
            estimator.Record(rows, us);
        }

        return (config, new SchedulerState(config, qos, estimator, 1, 0) { WorkersFreeAtUs = 1_000 });
    }

    [Fact]
    public void Hard_deadlines_cap_the_batch_and_a_queued_request_that_cannot_make_it_alone_is_refused_before_running()
    {
        var config = Config(maxBatch: 4, batching: """{"max_queue_delay_microseconds": 0}""");
        var estimator = new ComputeEstimator(4);
        estimator.Record(1, 1_000);
        estimator.Record(2, 1_500);
        estimator.Record(3, 2_500);
        var scheduler = new SchedulerState(config, config.Qos, estimator, 1, 0);
        InferenceRequest Make(long arrival, QosClass qos) => OneRow(config, arrival, qos);

        // Realtime (5 ms deadline) admitted at once; no worker was free until 4.5 ms later, and a
        // batch of one takes about 1 ms: it would answer at 5.5 ms, after its deadline.
        // (Behind another queued request: a request alone is let through as the estimates' probe.)
        var ahead = Make(0, QosClass.None);
        var late = Make(0, QosClass.Realtime);
        Assert.True(scheduler.Admit(late, 0));
        Assert.True(scheduler.Admit(ahead, 0));
        var batch = new InferenceRequest[4];
        var d = scheduler.TryTakeBatch(4_500, 0, batch);
        Assert.Equal(InferenceStatus.DeadlineExceeded, late.Status);
        Assert.Contains("refused before running", late.Error, StringComparison.Ordinal);
        Assert.Equal((1, 0), (d.Count, scheduler.Pending));
        Assert.Same(ahead, batch[0]);

        // Three realtime requests due at 8 ms, taken at 6 ms: two rows end at 7.5 ms, three at 8.5 ms.
        // The batch is capped at two; the third waits. Alone in the queue with a worker free it
        // runs (the estimates' probe) even though they say it will be late.
        var a = Make(3_000, QosClass.Realtime);
        var b = Make(3_000, QosClass.Realtime);
        var c = Make(3_000, QosClass.Realtime);
        foreach (var r in new[] { a, b, c })
        {
            Assert.True(scheduler.Admit(r, 3_000));
        }

        d = scheduler.TryTakeBatch(6_000, 0, batch);
        Assert.True(d.Send);
        Assert.Equal((2, 2), (d.Count, d.Rows));
        Assert.Equal([a, b], batch[..2]);
        Assert.Equal(1, scheduler.Pending);
        d = scheduler.TryTakeBatch(7_500, 0, batch);
        Assert.True(d.Send);
        Assert.Same(c, batch[0]);

        // Requests without a deadline are not capped.
        var plain = Enumerable.Range(0, 4).Select(_ => Make(10_000, QosClass.None)).ToList();
        plain.ForEach(r => Assert.True(scheduler.Admit(r, 10_000)));
        d = scheduler.TryTakeBatch(10_000, 0, batch);
        Assert.Equal(4, d.Count);
    }

    [Fact]
    public void Without_a_max_queue_size_the_servers_default_bound_applies_and_is_named()
    {
        var config = Config(maxBatch: 4, batching: """{"max_queue_delay_microseconds": 100000}""");
        var scheduler = new SchedulerState(config, config.Qos, new ComputeEstimator(4), 1, 0) { DefaultMaxQueueSize = 3 };
        InferenceRequest Make() => OneRow(config, 0, QosClass.None);

        for (int i = 0; i < 3; i++)
        {
            Assert.True(scheduler.Admit(Make(), 0));
        }

        var fourth = Make();
        Assert.False(scheduler.Admit(fourth, 0));
        Assert.Equal(InferenceStatus.Rejected, fourth.Status);
        Assert.Contains("LowLatency:MaxQueueSize 3", fourth.Error, StringComparison.Ordinal);

        // A model's own max_queue_size wins over the server's default.
        var own = Config(maxBatch: 4, batching: """{"max_queue_delay_microseconds": 100000, "default_queue_policy": {"max_queue_size": 5}}""");
        var scheduler2 = new SchedulerState(own, own.Qos, new ComputeEstimator(4), 1, 0) { DefaultMaxQueueSize = 3 };
        for (int i = 0; i < 5; i++)
        {
            Assert.True(scheduler2.Admit(OneRow(own, 0, QosClass.None), 0));
        }
    }

    [Fact]
    public void Without_padding_only_requests_of_the_same_shape_share_a_batch()
    {
        // A variable output dimension: the model cannot be padded.
        var config = ModelConfigReader.Parse("""
            {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
             "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [-1]}],
             "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [-1]}],
             "dynamic_batching": {"max_queue_delay_microseconds": 0}}
            """, "t");
        var h = new Harness(config);
        var a = h.Admit(0, width: 3);
        var b = h.Admit(1, width: 3);
        var c = h.Admit(2, width: 5);
        var d = h.Admit(3, width: 3);
        var (_, taken) = h.Take(5);
        Assert.Equal([a, b], taken);
        (_, taken) = h.Take(5);
        Assert.Equal([c], taken);
        (_, taken) = h.Take(5);
        Assert.Equal([d], taken);
    }

    [Fact]
    public void With_padding_requests_of_different_lengths_share_a_batch()
    {
        var h = new Harness(Config(dims: "[-1]", batching: """{"max_queue_delay_microseconds": 0}"""));
        var a = h.Admit(0, width: 3);
        var b = h.Admit(1, width: 7);
        var (_, taken) = h.Take(5);
        Assert.Equal([a, b], taken);
    }

    [Fact]
    public void A_model_without_batching_runs_one_request_at_a_time()
    {
        var config = ModelConfigReader.Parse("""
            {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 0,
             "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [4]}],
             "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [1]}]}
            """, "t");
        var h = new Harness(config);
        var a = h.Admit(0);
        var b = h.Admit(1);
        Assert.Equal([a], h.Take(2).Taken);
        Assert.Equal([b], h.Take(2).Taken);
    }

    [Fact]
    public void Draining_sends_pending_requests_without_waiting_for_windows()
    {
        var h = new Harness(Config(batching: """{"max_queue_delay_microseconds": 1000000}"""));
        var r = h.Admit(0);
        Assert.False(h.Take(1).Decision.Send);
        h.Scheduler.Draining = true;
        Assert.Equal([r], h.Take(2).Taken);
    }
}
