using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

/// <summary>
/// Cancels as the scheduling step takes them in, with a fake clock: a queued request leaves its
/// queue with its timers and is answered Cancelled; one cancelled before its intake is answered as
/// it is taken in (at once when the step has seen the cancel, held until it does otherwise); one
/// already batched is left alone; and one disposed while still on the cancel list goes back to its
/// pool from the step, never twice.
/// </summary>
public sealed class SchedulerStateCancelTests
{
    private static readonly ModelConfig Config = ModelConfigReader.Parse("""
        {"name": "m", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [4]}],
         "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {"max_queue_delay_microseconds": 1000, "priority_levels": 2, "default_priority_level": 1,
            "priority_queue_policy": {"2": {"timeout_action": "DELAY", "default_timeout_microseconds": 100}}}}
        """, "test");

    private readonly SchedulerState _state = new(Config, Config.Qos, new ComputeEstimator(1), 1, 0);
    private readonly CancelList _cancels = new();
    private readonly InferenceRequest[] _batch = new InferenceRequest[8];

    private static InferenceRequest Request(long arrival, int priority = 0, IRequestOwner? owner = null)
    {
        var r = owner is null ? new InferenceRequest(Config) : new InferenceRequest(Config, "1", RequestLimits.None, owner);
        r.OnRent();
        r.AddInput(0, TensorDataType.FP32, [1, 4]);
        r.Validate();
        r.ArrivalUs = arrival;
        r.Priority = priority;
        return r;
    }

    /// <summary>What a version's scheduler does when a request's caller cancels it: onto the list (the step takes it in when the test says).</summary>
    private void Cancel(InferenceRequest r)
    {
        r.Cancel();
        _cancels.Push(r);
    }

    private void Step() => _state.ApplyCancels(_cancels.TakeAll());

    private static async Task AssertCancelledAsync(InferenceRequest r)
    {
        Assert.False(await r.Completion.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(InferenceStatus.Cancelled, r.Status);
        Assert.Equal("model 'm': cancelled by the client before it ran", r.Error);
    }

    [Fact]
    public async Task A_queued_request_leaves_its_queue_and_its_timers_and_the_others_batch_as_before()
    {
        var a = Request(0);
        var b = Request(1);
        var c = Request(2);
        foreach (var r in new[] { a, b, c })
        {
            Assert.True(_state.Admit(r, r.ArrivalUs));
        }

        Cancel(b);
        Step();

        await AssertCancelledAsync(b);
        Assert.Equal(2, _state.Pending);
        _state.AdvanceTimers(1000);
        var decision = _state.TryTakeBatch(1000, 0, _batch);
        Assert.True(decision.Send);
        Assert.Equal(new[] { a, c }, _batch[..decision.Count]);
        // b's window went with it: no timer is left.
        Assert.Equal(long.MaxValue, _state.NextTimerUs);
    }

    [Fact]
    public async Task A_request_delayed_past_its_timeout_is_taken_out_of_the_delayed_queue()
    {
        var r = Request(0, priority: 2);
        Assert.True(_state.Admit(r, 0));
        _state.AdvanceTimers(150);

        Cancel(r);
        Step();

        await AssertCancelledAsync(r);
        Assert.Equal(0, _state.Pending);
        Assert.Equal(long.MaxValue, _state.NextTimerUs);
        Assert.False(_state.TryTakeBatch(5000, 0, _batch).Send);
    }

    [Fact]
    public async Task A_cancel_the_step_saw_before_the_intake_is_answered_as_the_request_is_taken_in()
    {
        var r = Request(0);
        Cancel(r);
        Step();

        Assert.False(r.Completion.IsCompleted);
        Assert.False(_state.Admit(r, 0));

        await AssertCancelledAsync(r);
        Assert.Equal(0, _state.Pending);
        Assert.Equal(0, _state.HeldForCancel);
        Assert.Equal(long.MaxValue, _state.NextTimerUs);
    }

    [Fact]
    public async Task A_request_taken_in_before_the_step_saw_its_cancel_is_held_until_it_does()
    {
        var r = Request(0);
        Cancel(r);

        Assert.False(_state.Admit(r, 0));
        Assert.Equal(1, _state.HeldForCancel);
        Assert.Equal(0, _state.Pending);
        Assert.False(r.Completion.IsCompleted);

        Step();
        await AssertCancelledAsync(r);
        Assert.Equal(0, _state.HeldForCancel);
    }

    [Fact]
    public async Task A_cancel_after_the_request_was_batched_has_no_effect()
    {
        var r = Request(0);
        Assert.True(_state.Admit(r, 0));
        var decision = _state.TryTakeBatch(1000, 0, _batch);
        Assert.Equal(new[] { r }, _batch[..decision.Count]);

        Cancel(r);
        Step();

        Assert.False(r.Completion.IsCompleted);
        r.Complete();
        Assert.True(await r.Completion.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(InferenceStatus.Ok, r.Status);
    }

    [Fact]
    public async Task A_request_disposed_while_on_the_cancel_list_goes_back_to_its_pool_from_the_step_once()
    {
        var owner = new Owner();
        var r = Request(0, owner: owner);
        Assert.True(_state.Admit(r, 0));
        Assert.True(_state.TryTakeBatch(1000, 0, _batch).Send);
        Cancel(r);
        r.Complete();
        Assert.True(await r.Completion.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        r.Dispose();
        Assert.Equal(0, owner.Returned);

        Step();
        Assert.Equal(1, owner.Returned);
        Step();
        Assert.Equal(1, owner.Returned);

        // Rented again, it starts uncancelled and can be cancelled again.
        r.OnRent();
        r.AddInput(0, TensorDataType.FP32, [1, 4]);
        r.Validate();
        Assert.True(_state.Admit(r, 2000));
        Cancel(r);
        Step();
        await AssertCancelledAsync(r);
        r.Dispose();
        Assert.Equal(2, owner.Returned);
    }

    [Fact]
    public async Task A_request_disposed_after_the_step_saw_its_cancel_goes_back_to_its_pool_from_Dispose()
    {
        var owner = new Owner();
        var r = Request(0, owner: owner);
        Assert.True(_state.Admit(r, 0));
        Cancel(r);
        Step();
        await AssertCancelledAsync(r);

        r.Dispose();
        Assert.Equal(1, owner.Returned);
        Step();
        Assert.Equal(1, owner.Returned);
    }

    private sealed class Owner : IRequestOwner
    {
        private int _returned;

        public int Returned => Volatile.Read(ref _returned);

        public void OnAnswered(InferenceRequest request)
        {
        }

        // The test pushes the request itself (see Cancel).
        public void OnCancelRequested(InferenceRequest request)
        {
        }

        public void Return(InferenceRequest request) => Interlocked.Increment(ref _returned);
    }
}
