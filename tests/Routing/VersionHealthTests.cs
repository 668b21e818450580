using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;

namespace LowLatency.Tests.Routing;

/// <summary>The circuit breaker's transitions, on a clock the test moves.</summary>
public sealed class VersionHealthTests
{
    private static readonly HealthPolicy Policy = new(true, MaxErrorRate: 0.5, MaxP99LatencyMicroseconds: 10_000, WindowSeconds: 10, MinRequests: 20, CooldownSeconds: 5, ProbePercent: 5, ProbeRequests: 10);

    private static (VersionHealth Health, FakeClock Clock, List<BreakerState> Transitions, RoutingEpoch Epoch) Make(HealthPolicy? policy = null)
    {
        var clock = new FakeClock();
        var transitions = new List<BreakerState>();
        var epoch = new RoutingEpoch();
        return (new VersionHealth(policy ?? Policy, clock, epoch, (_, s) => transitions.Add(s)), clock, transitions, epoch);
    }

    private static void Answer(VersionHealth h, int n, InferenceStatus status, long latencyUs = 500)
    {
        for (int i = 0; i < n; i++)
        {
            h.Record(status, latencyUs);
        }
    }

    [Fact]
    public void Failures_over_the_rate_open_the_circuit_cool_down_probe_and_readmit()
    {
        var (h, clock, transitions, epoch) = Make();
        Answer(h, 10, InferenceStatus.Ok);
        Answer(h, 9, InferenceStatus.ModelError);
        h.Evaluate();
        Assert.Equal(BreakerState.Closed, h.State); // 19 answers: under min_requests

        Answer(h, 12, InferenceStatus.ModelError);
        h.Evaluate();
        Assert.Equal(BreakerState.Open, h.State);   // 21 of 31 failed
        Assert.Contains("21 of 31", h.Reason);
        Assert.Equal(1, epoch.Value);

        clock.Advance(TimeSpan.FromSeconds(4.9));
        h.Tick();
        Assert.Equal(BreakerState.Open, h.State);
        clock.Advance(TimeSpan.FromSeconds(0.2));
        h.Tick();
        Assert.Equal(BreakerState.HalfOpen, h.State);

        Answer(h, 9, InferenceStatus.Ok);
        h.Evaluate();
        Assert.Equal(BreakerState.HalfOpen, h.State); // 9 of 10 probes so far
        Answer(h, 1, InferenceStatus.Ok);
        h.Evaluate();
        Assert.Equal(BreakerState.Closed, h.State);
        Assert.Equal([BreakerState.Open, BreakerState.HalfOpen, BreakerState.Closed], transitions);
        Assert.Equal(3, epoch.Value);

        // Readmitted with a clean window: the failures before the ejection do not count again.
        Answer(h, 19, InferenceStatus.ModelError);
        h.Evaluate();
        Assert.Equal(BreakerState.Closed, h.State);
    }

    [Fact]
    public void Failed_probes_open_the_circuit_again_for_another_cool_down()
    {
        var (h, clock, transitions, _) = Make();
        Answer(h, 30, InferenceStatus.ModelError);
        h.Evaluate();
        clock.Advance(TimeSpan.FromSeconds(6));
        h.Tick();
        Answer(h, 10, InferenceStatus.ModelError);
        h.Evaluate();
        Assert.Equal(BreakerState.Open, h.State);
        Assert.StartsWith("probe failed", h.Reason);
        clock.Advance(TimeSpan.FromSeconds(4));
        h.Tick();
        Assert.Equal(BreakerState.Open, h.State);
        clock.Advance(TimeSpan.FromSeconds(2));
        h.Tick();
        Assert.Equal([BreakerState.Open, BreakerState.HalfOpen, BreakerState.Open, BreakerState.HalfOpen], transitions);
    }

    [Fact]
    public void A_p99_over_the_latency_budget_opens_the_circuit()
    {
        var (h, _, _, _) = Make();
        Answer(h, 95, InferenceStatus.Ok, latencyUs: 800);
        Answer(h, 5, InferenceStatus.Ok, latencyUs: 50_000);
        h.Evaluate();
        Assert.Equal(BreakerState.Open, h.State);
        Assert.Contains("exceeds 10000 us", h.Reason);
    }

    [Fact]
    public void Rejections_expired_deadlines_and_bad_requests_say_nothing_about_a_version()
    {
        var (h, _, _, _) = Make();
        Answer(h, 100, InferenceStatus.Rejected);
        Answer(h, 100, InferenceStatus.DeadlineExceeded);
        Answer(h, 100, InferenceStatus.BadRequest);
        Answer(h, 10, InferenceStatus.Ok);
        h.Evaluate();
        Assert.Equal(BreakerState.Closed, h.State);
    }

    [Fact]
    public void Failures_older_than_the_window_are_forgotten()
    {
        var (h, clock, _, _) = Make();
        Answer(h, 15, InferenceStatus.ModelError);
        clock.Advance(TimeSpan.FromSeconds(11));
        Answer(h, 15, InferenceStatus.Ok);
        Answer(h, 5, InferenceStatus.ModelError);
        h.Evaluate();
        Assert.Equal(BreakerState.Closed, h.State); // 5 of 20 inside the window
    }

    [Fact]
    public void A_disabled_policy_never_ejects()
    {
        var (h, _, _, _) = Make(Policy with { Enabled = false });
        Answer(h, 100, InferenceStatus.ModelError);
        h.Evaluate();
        Assert.Equal(BreakerState.Closed, h.State);
    }

    [Fact]
    public void Latency_buckets_bound_their_values_within_an_eighth()
    {
        for (long us = 0; us < 5_000_000; us = (us * 17 / 16) + 1)
        {
            int b = LatencyWindow.Bucket(us);
            Assert.True(LatencyWindow.UpperBound(b) >= us, $"{us} above its bucket's bound {LatencyWindow.UpperBound(b)}");
            Assert.True(b == 0 || LatencyWindow.UpperBound(b - 1) < us, $"{us} belongs in an earlier bucket");
            Assert.True(LatencyWindow.UpperBound(b) <= us + (us / 8) + 1);
        }
    }
}
