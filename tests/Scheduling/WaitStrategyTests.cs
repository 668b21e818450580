using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Time;

namespace LowLatency.Tests.Scheduling;

public sealed class WaitStrategyTests
{
    [Fact]
    public void A_timer_wait_returns_on_a_signal_given_before_or_during_it()
    {
        using var spot = new LowLatency.Native.Threading.ParkingSpot();
        var wait = new SpinThenParkWaitStrategy(50);
        spot.Signal();
        // Signalled before: returns without waiting for the (far) deadline.
        wait.WaitForTimer(spot, MonotonicClock.NowMicroseconds() + 60_000_000, new Ahead());
        var signaller = new Thread(() =>
        {
            // A signal that comes later, so that it usually finds the waiter parked (the case named).
            // Nothing below depends on it: a signal given before the wait returns it at once too (above).
            Thread.Sleep(20);
            spot.Signal();
        });
        signaller.Start();
        // Signalled while parked: returns long before the deadline, and the signal is consumed.
        var ahead = new Ahead();
        wait.WaitForTimer(spot, MonotonicClock.NowMicroseconds() + 60_000_000, ahead);
        signaller.Join();
        Assert.Equal(0, ahead.Calls);
        Assert.False(spot.TryConsume());
    }

    [Fact]
    public void A_timer_wait_never_returns_before_its_deadline_without_a_signal()
    {
        using var spot = new LowLatency.Native.Threading.ParkingSpot();
        var wait = new SpinThenParkWaitStrategy(50);
        foreach (long ahead in new long[] { 0, 30, 400, 3000 })
        {
            long deadline = MonotonicClock.NowMicroseconds() + ahead;
            var told = new Ahead();
            wait.WaitForTimer(spot, deadline, told);
            Assert.True(MonotonicClock.NowMicroseconds() >= deadline, $"returned early for a deadline {ahead} µs ahead");
            // Told once, ahead of the deadline (at once when it is already near).
            Assert.Equal(1, told.Calls);
        }
    }

    [Fact]
    public void A_timer_wait_tells_a_measured_lead_ahead_once_wake_ups_were_late()
    {
        using var spot = new LowLatency.Native.Threading.ParkingSpot();
        var wait = new SpinThenParkWaitStrategy(50);

        // Nothing late yet: told the 500 µs floor ahead, after a park, so with at most that left.
        var fresh = new Ahead();
        long deadline = MonotonicClock.NowMicroseconds() + 1_900;
        wait.WaitForTimer(spot, deadline, fresh);
        Assert.Equal(1, fresh.Calls);
        Assert.True(fresh.LeftWhenTold <= WakeLead.FloorMicroseconds, $"told {fresh.LeftWhenTold} µs ahead");

        // A worker that took 1.4 ms to wake: the lead is the 2 ms cap, so the same wait tells at
        // once, before it parks at all. A signal already pending shows the order without timing it:
        // a park would consume it and return untold; told first, the park after it takes it.
        var late = new Ahead();
        late.Lead.RecordWorkerWake(1_400);
        spot.Signal();
        wait.WaitForTimer(spot, MonotonicClock.NowMicroseconds() + 1_900, late);
        Assert.Equal(1, late.Calls);
    }

    [Fact]
    public void A_timer_wait_shorter_than_its_lead_counts_as_on_time_so_the_lead_decays()
    {
        using var spot = new LowLatency.Native.Threading.ParkingSpot();
        var wait = new SpinThenParkWaitStrategy(50);
        var ahead = new Ahead();
        ahead.Lead.RecordTimerLateness(1_400);
        // Lead 2 ms (the cap), window 1 ms: told at once, no park to measure; the peak loses a 64th.
        wait.WaitForTimer(spot, MonotonicClock.NowMicroseconds() + 1_000, ahead);
        Assert.Equal(1, ahead.Calls);
        Assert.Equal(1_378, ahead.Lead.TimerPeakMicroseconds);
    }

    private sealed class Ahead : IDeadlineAhead
    {
        public int Calls { get; private set; }

        public long LeftWhenTold { get; private set; }

        public WakeLead Lead { get; } = new();

        public void OnDeadlineAhead(long deadlineUs)
        {
            Calls++;
            LeftWhenTold = deadlineUs - MonotonicClock.NowMicroseconds();
        }
    }
}
