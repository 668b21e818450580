using LowLatency.Gateway.Config;
using LowLatency.Gateway.Weights;

namespace LowLatency.Tests.Gateway;

/// <summary>The weight formula tick by tick, on a clock the test moves (the formula takes the time as an argument).</summary>
public sealed class WeightFormulaTests
{
    private static readonly WeightPolicy Policy = new() { FloorPercent = 5, LatencyTolerance = 1.5, EjectErrorRate = 0.5, MinRequests = 10, CooldownSeconds = 2, ProbeRequests = 3 };

    [Fact]
    public void A_healthy_backend_keeps_its_base_weight()
    {
        var h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(20, 20 * 1000, 100, 0), 1000, 0, out _);
        Assert.Equal(BackendState.Closed, h.State);
        Assert.Equal(100, h.Weight, 6);
    }

    [Fact]
    public void Errors_lower_the_weight_linearly_down_to_the_floor()
    {
        // 20% errors of a 50% eject rate: 1 - 0.2/0.5 = 0.6 of the base.
        var h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(10, 10_000, 100, 20), 1000, 0, out _);
        Assert.Equal(60, h.Weight, 6);

        // 49%: 0.02, under the 5% floor: the floor.
        h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(10, 10_000, 100, 49), 1000, 0, out _);
        Assert.Equal(5, h.Weight, 6);

        // Too few answers say nothing: the base.
        h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(5, 5_000, 5, 4), 1000, 0, out _);
        Assert.Equal(100, h.Weight, 6);
    }

    [Fact]
    public void A_slow_backend_loses_weight_past_the_tolerance()
    {
        // 3 ms against a fastest of 1 ms, tolerance 1.5: 1.5/3 = half the base.
        var h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(10, 10 * 3000, 10, 0), 1000, 0, out _);
        Assert.Equal(50, h.Weight, 6);

        // 1.4 ms: within the tolerance, the base.
        h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(10, 10 * 1400, 10, 0), 1000, 0, out _);
        Assert.Equal(100, h.Weight, 6);
    }

    [Fact]
    public void Latency_is_an_average_of_the_ticks_so_one_slow_tick_moves_it_by_alpha()
    {
        var h = BackendHealth.Start(100) with { LatencyUs = 1000 };
        h = WeightFormula.Next(Policy, 100, h, new WindowTotals(1, 11_000, 1, 0), 1000, 0, out _);
        Assert.Equal(1000 + (WeightFormula.LatencyAlpha * 10_000), h.LatencyUs, 6);

        // A tick without answers leaves it.
        var same = WeightFormula.Next(Policy, 100, h, new WindowTotals(0, 0, 1, 0), 1000, 0, out _);
        Assert.Equal(h.LatencyUs, same.LatencyUs, 6);
    }

    [Fact]
    public void A_failing_backend_is_ejected_probed_after_the_cooldown_and_restored_gradually()
    {
        long now = 1_000_000;
        var h = WeightFormula.Next(Policy, 100, BackendHealth.Start(100), new WindowTotals(10, 1000, 20, 10), 1000, now, out bool clear);
        Assert.Equal(BackendState.Open, h.State);
        Assert.Equal(0, h.Weight);
        Assert.True(clear);

        // Within the cool-down: still out.
        now += 1_999_999;
        h = WeightFormula.Next(Policy, 100, h, default, 1000, now, out _);
        Assert.Equal(BackendState.Open, h.State);

        // After it: probed at the floor, its window forgotten.
        now += 1;
        h = WeightFormula.Next(Policy, 100, h, default, 1000, now, out clear);
        Assert.Equal(BackendState.HalfOpen, h.State);
        Assert.Equal(5, h.Weight, 6);
        Assert.True(clear);

        // Too few probes: still probing.
        h = WeightFormula.Next(Policy, 100, h, new WindowTotals(2, 2000, 2, 0), 1000, now, out _);
        Assert.Equal(BackendState.HalfOpen, h.State);

        // Enough good probes: recovering, its weight doubling each tick up to the base.
        var weights = new List<double>();
        h = WeightFormula.Next(Policy, 100, h, new WindowTotals(1, 1000, 3, 0), 1000, now, out _);
        weights.Add(h.Weight);
        while (h.State == BackendState.Recovering)
        {
            h = WeightFormula.Next(Policy, 100, h, new WindowTotals(10, 10_000, 30, 0), 1000, now, out _);
            weights.Add(h.Weight);
        }

        Assert.Equal([10, 20, 40, 80, 100], weights);
        Assert.Equal(BackendState.Closed, h.State);
    }

    [Fact]
    public void A_probe_that_fails_ejects_the_backend_again()
    {
        var h = new BackendHealth(BackendState.HalfOpen, 5, 1000, 0, 0, 0);
        h = WeightFormula.Next(Policy, 100, h, new WindowTotals(1, 1000, 1, 1), 1000, 5_000_000, out bool clear);
        Assert.Equal(BackendState.Open, h.State);
        Assert.Equal(5_000_000 + 2_000_000, h.OpenUntilUs);
        Assert.True(clear);
    }
}
