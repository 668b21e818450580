using LowLatency.Engine.Time;
using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

internal struct SpinThenParkWaitStrategy(long spinMicroseconds) : IWaitStrategy
{
    /// <summary>How long of the spin is a pure pause loop before it turns to yielding.</summary>
    internal const long PauseMicroseconds = 10;

    public readonly void Wait(ParkingSpot spot, long deadlineUs)
    {
        long now = MonotonicClock.NowMicroseconds();
        long spinUntil = Math.Min(deadlineUs, now + spinMicroseconds);
        long pauseUntil = Math.Min(spinUntil, now + PauseMicroseconds);
        while (now < spinUntil)
        {
            if (spot.TryConsume())
            {
                return;
            }

            // A few µs of pause-spinning catch a hand-off at once; after that, sched_yield: with more
            // runnable threads than cores (request threads producing the very work this thread waits
            // for), a pure spinner holds a core they need. With nothing else runnable the yield
            // returns at once and this is still a spin (docs/performance.md#wait-strategies).
            if (now < pauseUntil)
            {
                Thread.SpinWait(8);
            }
            else
            {
                Thread.Yield();
            }

            now = MonotonicClock.NowMicroseconds();
        }

        Park(spot, deadlineUs);
    }

    public readonly void WaitForTimer(ParkingSpot spot, long deadlineUs, IDeadlineAhead ahead)
    {
        if (deadlineUs == long.MaxValue)
        {
            spot.Wait(-1);
            return;
        }

        // Park until the wake-ahead lead, tell, park again until the spin margin, then spin the
        // rest: on time, not late by a wake-up's latency. The first park reports how late it
        // returned, which the lead must cover (WakeLead). The second does not: the worker told is
        // spinning by then and takes the step itself at the deadline, and counted, it held the lead
        // at its cap (most likely the spinning worker holding the core this thread wakes on;
        // docs/performance.md#wake-lead).

        long leadAt = deadlineUs - Math.Max(ahead.Lead.Microseconds, spinMicroseconds);
        if (leadAt > MonotonicClock.NowMicroseconds())
        {
            if (Park(spot, leadAt))
            {
                return;
            }

            ahead.Lead.RecordTimerLateness(MonotonicClock.NowMicroseconds() - leadAt);
        }
        else
        {
            // Told at once, nothing observed: counted as on time, so that a lead grown as long as
            // a model's windows decays rather than sticking there with nothing left to measure it.
            ahead.Lead.RecordTimerLateness(0);
        }

        ahead.OnDeadlineAhead(deadlineUs);
        long parkUntil = deadlineUs - spinMicroseconds;
        if (parkUntil > MonotonicClock.NowMicroseconds() && Park(spot, parkUntil))
        {
            return;
        }

        long now = MonotonicClock.NowMicroseconds();
        while (now < deadlineUs)
        {
            if (spot.TryConsume())
            {
                return;
            }

            Thread.SpinWait(8);
            now = MonotonicClock.NowMicroseconds();
        }
    }

    /// <summary>Parks until signalled or the deadline; true when woken by a signal (consumed).</summary>
    internal static bool Park(ParkingSpot spot, long deadlineUs)
    {
        if (deadlineUs == long.MaxValue)
        {
            return spot.Wait(-1);
        }

        long remaining = deadlineUs - MonotonicClock.NowMicroseconds();
        return remaining > 0 ? spot.Wait(remaining * 1000) : spot.TryConsume();
    }
}
