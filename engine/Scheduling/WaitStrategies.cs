using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// How a dedicated thread waits for work or for a deadline. A struct type parameter of the loops
/// that use it, so the call is devirtualised and inlined.
/// </summary>
public interface IWaitStrategy
{
    /// <summary>Waits until <paramref name="spot"/> is signalled or <paramref name="deadlineUs"/> (µs, <see cref="MonotonicClock"/>; MaxValue for none) passes.</summary>
    void Wait(ParkingSpot spot, long deadlineUs);
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
    public readonly void Wait(ParkingSpot spot, long deadlineUs) => SpinThenParkWaitStrategy.Park(spot, deadlineUs);
}

public struct SpinThenParkWaitStrategy(long spinMicroseconds) : IWaitStrategy
{
    public readonly void Wait(ParkingSpot spot, long deadlineUs)
    {
        long now = MonotonicClock.NowMicroseconds();
        long spinUntil = Math.Min(deadlineUs, now + spinMicroseconds);
        while (now < spinUntil)
        {
            if (spot.TryConsume())
            {
                return;
            }

            Thread.SpinWait(8);
            now = MonotonicClock.NowMicroseconds();
        }

        Park(spot, deadlineUs);
    }

    internal static void Park(ParkingSpot spot, long deadlineUs)
    {
        if (deadlineUs == long.MaxValue)
        {
            spot.Wait(-1);
            return;
        }

        long remaining = deadlineUs - MonotonicClock.NowMicroseconds();
        if (remaining > 0)
        {
            spot.Wait(remaining * 1000);
        }
    }
}
