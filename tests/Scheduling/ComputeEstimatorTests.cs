using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

public sealed class ComputeEstimatorTests
{
    [Fact]
    public void The_mean_follows_samples_a_quarter_at_a_time_and_one_slow_batch_counts_at_most_double()
    {
        var e = new ComputeEstimator(8);
        Assert.Equal(0, e.Estimate(1));
        e.Record(1, 1_000);
        Assert.Equal(1_000, e.Estimate(1));
        e.Record(1, 2_000);
        Assert.Equal(1_250, e.Estimate(1));
        e.Record(1, 1_000_000);
        Assert.Equal(1_250 + ((2_500 - 1_250) / 4), e.Estimate(1));
    }

    [Fact]
    public void Sizes_not_seen_are_interpolated_and_scaled_beyond_the_last_seen()
    {
        var e = new ComputeEstimator(8);
        e.Record(2, 2_000);
        e.Record(6, 4_000);
        Assert.Equal(3_000, e.Estimate(4));
        Assert.Equal(1_000, e.Estimate(1));
        Assert.Equal(5_333, e.Estimate(8));
    }

    [Fact]
    public void Steady_batches_add_no_margin_and_varying_ones_add_two_mean_deviations()
    {
        var steady = new ComputeEstimator(4);
        for (int i = 0; i < 20; i++)
        {
            steady.Record(1, 1_000);
        }

        Assert.Equal(0, steady.Margin(1));
        Assert.Equal(1_000, steady.EstimateHigh(1));

        // Alternating 1 and 2 ms: the mean settles near 1.5 ms and the mean deviation near 0.5 ms.
        var varying = new ComputeEstimator(4);
        for (int i = 0; i < 200; i++)
        {
            varying.Record(1, i % 2 == 0 ? 1_000 : 2_000);
        }

        Assert.InRange(varying.Estimate(1), 1_300, 1_700);
        Assert.InRange(varying.Margin(1), 800, 1_200);
        Assert.Equal(varying.Estimate(1) + varying.Margin(1), varying.EstimateHigh(1));

        // Interpolated like the mean for a size not seen; cleared by Reset.
        varying.Record(3, 3_000);
        Assert.InRange(varying.Margin(2), 400, 600);
        varying.Reset();
        Assert.Equal(0, varying.EstimateHigh(1));
    }
}
