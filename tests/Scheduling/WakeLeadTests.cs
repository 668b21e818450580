using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

public sealed class WakeLeadTests
{
    [Fact]
    public void Starts_at_the_floor_and_stays_there_while_wake_ups_are_prompt()
    {
        var lead = new WakeLead();
        Assert.Equal(WakeLead.FloorMicroseconds, lead.Microseconds);
        for (int i = 0; i < 100; i++)
        {
            lead.RecordTimerLateness(120);
            lead.RecordWorkerWake(90);
        }

        // (120 + 90) × 1.5 = 315 µs: under the floor.
        Assert.Equal(WakeLead.FloorMicroseconds, lead.Microseconds);
    }

    [Fact]
    public void Covers_both_late_wake_ups_plus_half_again_up_to_the_cap()
    {
        var lead = new WakeLead();
        lead.RecordTimerLateness(300);
        lead.RecordWorkerWake(400);
        Assert.Equal(1_050, lead.Microseconds);
        lead.RecordWorkerWake(5_000);
        Assert.Equal(WakeLead.CapMicroseconds, lead.Microseconds);
    }

    [Fact]
    public void Forgets_an_outlier_slowly_and_ignores_early_returns()
    {
        var lead = new WakeLead();
        lead.RecordTimerLateness(1_000);
        lead.RecordTimerLateness(-40);
        // One sample later the peak has lost a sixty-fourth, rounded up: 984 µs, lead 1,476.
        Assert.Equal(1_476, lead.Microseconds);
        for (int i = 0; i < 64; i++)
        {
            lead.RecordTimerLateness(0);
        }

        // Still above the floor after 64 on-time samples; at it after one more.
        Assert.True(lead.Microseconds > WakeLead.FloorMicroseconds);
        lead.RecordTimerLateness(0);
        Assert.Equal(WakeLead.FloorMicroseconds, lead.Microseconds);
    }

    [Theory]
    [InlineData(0, 10, 10)]
    [InlineData(160, 0, 157)]
    [InlineData(160, 155, 157)]
    [InlineData(63, 0, 62)]
    [InlineData(1, 0, 0)]
    [InlineData(640, -5, 630)]
    public void The_peak_follows_a_higher_sample_and_otherwise_decays_by_a_sixty_fourth(long peak, long sample, long expected)
        => Assert.Equal(expected, WakeLead.Decay(peak, sample));
}
