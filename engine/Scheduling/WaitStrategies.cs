using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// How a dedicated thread waits for work or for a deadline. A struct type parameter of the loops
/// that use it, so the call is devirtualised and inlined.
/// </summary>
public interface IWaitStrategy
{
    /// <summary>
    /// A device worker's wait for its next batch: until <paramref name="spot"/> is signalled or
    /// <paramref name="deadlineUs"/> (µs, <see cref="MonotonicClock"/>; MaxValue for none) passes.
    /// </summary>
    void Wait(ParkingSpot spot, long deadlineUs);

    /// <summary>
    /// The scheduler thread's wait for its next timer (a batching window or a timeout), or a signal.
    /// It hands nothing off (submitters and idle workers take the scheduling step themselves), so
    /// spinning after a step buys nothing and takes a core from the workers; what matters is waking
    /// on time, which a futex alone does not promise below a millisecond: spin only near the deadline.
    /// Where the strategy spins before a deadline, <paramref name="ahead"/> is told as the spin
    /// starts, so that a parked worker can be woken in time to be spinning when the batch comes.
    /// </summary>
    void WaitForTimer(ParkingSpot spot, long deadlineUs, IDeadlineAhead ahead);
}

/// <summary>Told, its <see cref="Lead"/> before a timed wait's deadline, that it is coming.</summary>
public interface IDeadlineAhead
{
    /// <summary>How far ahead to tell, and where the wait reports how late its parks returned.</summary>
    WakeLead Lead { get; }

    void OnDeadlineAhead(long deadlineUs);
}

/// <summary>Which <see cref="IWaitStrategy"/> the engine's threads use (setting <c>LowLatency:WaitStrategy</c>).</summary>
public enum WaitStrategyKind
{
    /// <summary>Spin for <c>SpinMicroseconds</c>, then park: microsecond hand-offs under load, no burnt core when idle. The default.</summary>
    SpinThenPark,

    /// <summary>Never park: the lowest hand-off latency, at the price of one busy core per thread, always.</summary>
    Spin,

    /// <summary>Park at once: the least CPU, a futex wake-up (several µs) per hand-off.</summary>
    Park,
}

public struct SpinWaitStrategy : IWaitStrategy
{
    public readonly void WaitForTimer(ParkingSpot spot, long deadlineUs, IDeadlineAhead ahead) => Wait(spot, deadlineUs);

    public readonly void Wait(ParkingSpot spot, long deadlineUs)
    {
        while (!spot.TryConsume() && MonotonicClock.NowMicroseconds() < deadlineUs)
        {
            Thread.SpinWait(8);
        }
    }
}

public struct ParkWaitStrategy : IWaitStrategy
{
    public readonly void WaitForTimer(ParkingSpot spot, long deadlineUs, IDeadlineAhead ahead) => SpinThenParkWaitStrategy.Park(spot, deadlineUs);

    public readonly void Wait(ParkingSpot spot, long deadlineUs) => SpinThenParkWaitStrategy.Park(spot, deadlineUs);
}

public struct SpinThenParkWaitStrategy(long spinMicroseconds) : IWaitStrategy
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
            // returns at once and this is still a spin. Measured in perf/results/README.md.
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
        // spinning by then and takes the step itself at the deadline, and counted, it kept the
        // lead at its cap on the reference VM (peaks of 1–2.5 ms against 0.1–0.7 ms for the first
        // park alone; most likely the spinning worker holding the core this thread wakes on).
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
