using System.Diagnostics;
using LowLatency.Host.Memory;

namespace LowLatency.Tests.Memory;

/// <summary>When the memory trim runs: once after a burst (of allocation or of bodies held), when it is over, and not more often than its interval.</summary>
public sealed class BurstWatchTests
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private static long At(double seconds) => (long)(seconds * Stopwatch.Frequency);

    [Fact]
    public void Steady_traffic_never_trims()
    {
        var watch = new BurstWatch(64 * MiB, Interval);
        long allocated = 10_000 * MiB;
        for (int tick = 0; tick < 1000; tick++)
        {
            allocated += 30 * MiB;
            Assert.False(watch.ShouldTrim(allocated, 3 * MiB, At(tick * 0.5)));
        }
    }

    [Fact]
    public void An_allocation_burst_trims_once_at_the_first_quiet_look_after_it()
    {
        var watch = new BurstWatch(64 * MiB, Interval);
        // The first look only sets the start: what was allocated before it is no burst.
        Assert.False(watch.ShouldTrim(5_000 * MiB, 0, At(0)));
        Assert.False(watch.ShouldTrim(5_200 * MiB, 0, At(0.5)));
        Assert.False(watch.ShouldTrim(5_400 * MiB, 0, At(1)));
        Assert.True(watch.ShouldTrim(5_401 * MiB, 0, At(1.5)));
        Assert.False(watch.ShouldTrim(5_402 * MiB, 0, At(2)));
        Assert.False(watch.ShouldTrim(5_403 * MiB, 0, At(60)));
    }

    [Fact]
    public void Bodies_held_keep_the_burst_on_until_they_fall_under_half_the_burst_size()
    {
        var watch = new BurstWatch(64 * MiB, Interval);
        Assert.False(watch.ShouldTrim(0, 0, At(0)));
        Assert.False(watch.ShouldTrim(1 * MiB, 512 * MiB, At(0.5)));
        Assert.False(watch.ShouldTrim(2 * MiB, 40 * MiB, At(1)));
        Assert.True(watch.ShouldTrim(3 * MiB, 0, At(1.5)));
    }

    [Fact]
    public void Bursts_in_a_row_trim_at_most_once_per_interval()
    {
        var watch = new BurstWatch(64 * MiB, Interval);
        Assert.False(watch.ShouldTrim(0, 0, At(0)));
        Assert.False(watch.ShouldTrim(100 * MiB, 0, At(0.5)));
        Assert.True(watch.ShouldTrim(100 * MiB, 0, At(1)));
        Assert.False(watch.ShouldTrim(200 * MiB, 0, At(1.5)));
        Assert.False(watch.ShouldTrim(200 * MiB, 0, At(2)));
        Assert.False(watch.ShouldTrim(200 * MiB, 0, At(2.5)));
        Assert.True(watch.ShouldTrim(200 * MiB, 0, At(3)));
    }
}
