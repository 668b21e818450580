using LowLatency.Engine.Config;
using LowLatency.Engine.Scheduling;
using LowLatency.Tests.Routing;

namespace LowLatency.Tests.Scheduling;

/// <summary>The autoscaler's rule, one window at a time, against a clock the test moves.</summary>
public sealed class AutoscalePolicyTests
{
    // 1 … 4 instances, 1 ms target, 2 s windows, 5 s cool-down, removed above 50% idle, 10 s scale-down stabilisation.
    private static readonly AutoscaleConfig Config = new(1, 4, 1000, 2, 5, 50, 10);

    private static readonly long Window = 2_000_000;

    private readonly FakeClock _clock = new();

    private AutoscaleObservation Seen(double queueUs, double idle, int instances, long lastChangeUs = long.MinValue, int freeCores = 4, long requests = 1000, long? windowUs = null, long lastOverTargetUs = long.MinValue) =>
        new(_clock.NowMicroseconds, windowUs ?? Window, requests, queueUs, idle, instances, lastChangeUs, freeCores, lastOverTargetUs);

    [Fact]
    public void Adds_while_the_queue_delay_is_over_the_target_and_a_core_is_free()
    {
        var d = AutoscalePolicy.Decide(Seen(queueUs: 2500, idle: 0.02, instances: 1), Config);
        Assert.Equal(AutoscaleAction.Add, d.Action);
        Assert.Contains("mean queue delay 2500 µs over 1000 requests (target 1000 µs)", d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Does_not_add_while_the_workers_sit_idle_whatever_the_queue_delay()
    {
        // A delay the workers did not cause (a burst within the window, a machine short of CPU): another instance would sit idle too.
        var idle = AutoscalePolicy.Decide(Seen(queueUs: 6300, idle: 0.81, instances: 1), Config);
        Assert.Equal(AutoscaleAction.Hold, idle.Action);
        Assert.Contains("idle more than idle_percent 50%", idle.Reason, StringComparison.Ordinal);
        Assert.Equal(AutoscaleAction.Add, AutoscalePolicy.Decide(Seen(queueUs: 6300, idle: 0.45, instances: 1), Config).Action);
    }

    [Fact]
    public void Holds_at_the_bound_or_without_a_free_core()
    {
        var atMax = AutoscalePolicy.Decide(Seen(queueUs: 2500, idle: 0, instances: 4), Config);
        Assert.Equal(AutoscaleAction.Hold, atMax.Action);
        Assert.Contains("already at max_instances 4", atMax.Reason, StringComparison.Ordinal);
        var noCore = AutoscalePolicy.Decide(Seen(queueUs: 2500, idle: 0, instances: 2, freeCores: 0), Config);
        Assert.Equal(AutoscaleAction.Hold, noCore.Action);
        Assert.Contains("no free core", noCore.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Removes_when_workers_sit_idle_and_the_queue_is_well_under_the_target_but_not_below_min()
    {
        var d = AutoscalePolicy.Decide(Seen(queueUs: 100, idle: 0.8, instances: 3), Config);
        Assert.Equal(AutoscaleAction.Remove, d.Action);
        Assert.Contains("workers idle 80%", d.Reason, StringComparison.Ordinal);
        Assert.Equal(AutoscaleAction.Hold, AutoscalePolicy.Decide(Seen(queueUs: 100, idle: 0.8, instances: 1), Config).Action);
        // Idle, but the queue delay is near the target (bursts): removing would bring it over.
        Assert.Equal(AutoscaleAction.Hold, AutoscalePolicy.Decide(Seen(queueUs: 700, idle: 0.8, instances: 3), Config).Action);
        // No requests at all: idle, removed down to min.
        Assert.Equal(AutoscaleAction.Remove, AutoscalePolicy.Decide(Seen(queueUs: 0, idle: 1, instances: 2, requests: 0), Config).Action);
    }

    [Fact]
    public void Nothing_changes_within_the_cool_down_after_a_change_and_it_acts_again_after_it()
    {
        long changed = _clock.NowMicroseconds;
        _clock.Advance(TimeSpan.FromSeconds(2));
        var d = AutoscalePolicy.Decide(Seen(queueUs: 5000, idle: 0, instances: 2, lastChangeUs: changed), Config);
        Assert.Equal(AutoscaleAction.Hold, d.Action);
        Assert.StartsWith("cooling down: 2000 ms since the last change, 5000 ms needed", d.Reason, StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(AutoscaleAction.Add, AutoscalePolicy.Decide(Seen(queueUs: 5000, idle: 0, instances: 2, lastChangeUs: changed), Config).Action);
    }

    [Fact]
    public void A_window_shorter_than_configured_decides_nothing()
    {
        var d = AutoscalePolicy.Decide(Seen(queueUs: 5000, idle: 0, instances: 1, windowUs: 500_000), Config);
        Assert.Equal(AutoscaleAction.Hold, d.Action);
        Assert.StartsWith("window not full", d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_bounds_counts_come_back_within_them_first_even_while_cooling_down()
    {
        long now = _clock.NowMicroseconds;
        Assert.Equal(AutoscaleAction.Add, AutoscalePolicy.Decide(Seen(queueUs: 0, idle: 1, instances: 0, lastChangeUs: now), new AutoscaleConfig(1, 4, 1000, 2, 5, 50)).Action);
        Assert.Equal(AutoscaleAction.Remove, AutoscalePolicy.Decide(Seen(queueUs: 5000, idle: 0, instances: 6, lastChangeUs: now), Config).Action);
    }

    [Fact]
    public void No_instance_is_removed_within_the_stabilisation_time_after_the_queue_delay_was_last_over_the_target()
    {
        long over = _clock.NowMicroseconds;
        _clock.Advance(TimeSpan.FromSeconds(6));
        var d = AutoscalePolicy.Decide(Seen(queueUs: 0, idle: 0.9, instances: 2, lastOverTargetUs: over), Config);
        Assert.Equal(AutoscaleAction.Hold, d.Action);
        Assert.Contains("the queue delay was over the target 6000 ms ago, removing waits 10000 ms", d.Reason, StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(AutoscaleAction.Remove, AutoscalePolicy.Decide(Seen(queueUs: 0, idle: 0.9, instances: 2, lastOverTargetUs: over), Config).Action);
    }

    [Fact]
    public void Between_the_thresholds_it_holds()
    {
        var d = AutoscalePolicy.Decide(Seen(queueUs: 800, idle: 0.3, instances: 2), Config);
        Assert.Equal(AutoscaleAction.Hold, d.Action);
        Assert.Contains("mean queue delay 800 µs", d.Reason, StringComparison.Ordinal);
    }
}
