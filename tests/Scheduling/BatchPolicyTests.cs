using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

/// <summary>Each rule of Triton's dynamic batcher, on the pure decision with made-up times.</summary>
public sealed class BatchPolicyTests
{
    private static BatchDecision Decide(int max, int[] preferred, long now, params (int Rows, long Window, long Arrival)[] queue)
    {
        var p = new BatchPolicy(max, preferred);
        foreach (var (rows, window, arrival) in queue)
        {
            if (!p.TryAdd(rows, window, arrival))
            {
                break;
            }
        }

        return p.Decide(now);
    }

    [Fact]
    public void Nothing_queued_means_nothing_to_wait_for()
    {
        var d = Decide(8, [], 0);
        Assert.False(d.Send);
        Assert.Equal(long.MaxValue, d.WaitUntilUs);
    }

    [Fact]
    public void Below_every_size_it_waits_until_the_earliest_window()
    {
        var d = Decide(8, [4], now: 50, (1, 110, 10), (1, 100, 20), (1, 130, 30));
        Assert.False(d.Send);
        Assert.Equal(100, d.WaitUntilUs);
    }

    [Fact]
    public void When_the_window_expires_everything_pending_goes()
    {
        var d = Decide(8, [4], now: 100, (1, 100, 0), (1, 120, 20), (1, 130, 30));
        Assert.Equal(SendReason.Window, d.Reason);
        Assert.Equal(3, d.Count);
        Assert.Equal(3, d.Rows);
        Assert.Equal(100, d.EligibleUs);
    }

    [Fact]
    public void A_preferred_size_goes_at_once_before_the_window()
    {
        var d = Decide(8, [2, 4], now: 30, (1, 100, 0), (1, 110, 10), (1, 120, 20), (1, 130, 25), (1, 140, 28));
        Assert.Equal(SendReason.Preferred, d.Reason);
        // The largest preferred size reached (4), not everything pending (5).
        Assert.Equal(4, d.Count);
        Assert.Equal(25, d.EligibleUs);
    }

    [Fact]
    public void Past_the_window_a_preferred_size_no_longer_limits_the_batch()
    {
        var d = Decide(8, [2, 4, 8], now: 100, (1, 100, 0), (1, 110, 10), (1, 120, 20), (1, 130, 25), (1, 140, 28));
        Assert.Equal(SendReason.Window, d.Reason);
        Assert.Equal(5, d.Count);
    }

    [Fact]
    public void Reaching_max_batch_size_goes_at_once()
    {
        var d = Decide(4, [], now: 0, (2, 100, 0), (2, 100, 0), (1, 100, 0));
        Assert.Equal(SendReason.Full, d.Reason);
        Assert.Equal(2, d.Count);
        Assert.Equal(4, d.Rows);
    }

    [Fact]
    public void A_request_that_would_overflow_closes_the_batch()
    {
        var d = Decide(4, [], now: 0, (3, 100, 0), (2, 100, 7));
        Assert.Equal(SendReason.Full, d.Reason);
        Assert.Equal(1, d.Count);
        Assert.Equal(3, d.Rows);
        Assert.Equal(7, d.EligibleUs);
    }

    [Fact]
    public void Passing_the_largest_preferred_size_goes_at_once()
    {
        var d = Decide(16, [2, 4], now: 0, (3, 100, 0), (2, 100, 1));
        Assert.Equal(SendReason.Full, d.Reason);
        Assert.Equal(5, d.Rows);
    }

    [Fact]
    public void Incompatible_shapes_close_the_batch()
    {
        var p = new BatchPolicy(8, []);
        Assert.True(p.TryAdd(1, 100, 0));
        Assert.False(p.TryAdd(1, 100, 5, compatible: false));
        Assert.False(p.TryAdd(1, 100, 6));
        var d = p.Decide(0);
        Assert.Equal(SendReason.Full, d.Reason);
        Assert.Equal(1, d.Count);
    }

    [Fact]
    public void A_zero_window_sends_whatever_is_queued()
    {
        var d = Decide(8, [4], now: 5, (1, 5, 5));
        Assert.Equal(SendReason.Window, d.Reason);
        Assert.Equal(1, d.Count);
    }

    [Fact]
    public void With_a_zero_window_a_preferred_size_still_limits_the_batch_as_in_Triton()
    {
        var d = Decide(8, [2], now: 5, (1, 0, 0), (1, 1, 1), (1, 2, 2));
        Assert.Equal(SendReason.Preferred, d.Reason);
        Assert.Equal(2, d.Count);
    }

    [Fact]
    public void Draining_sends_without_waiting()
    {
        var p = new BatchPolicy(8, []);
        p.TryAdd(1, 1000, 0);
        Assert.False(p.Decide(0).Send);
        Assert.Equal(SendReason.Drain, p.Decide(0, draining: true).Reason);
    }
}
