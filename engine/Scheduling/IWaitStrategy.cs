using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// How a dedicated thread waits for work or for a deadline. A struct type parameter of the loops
/// that use it, so the call is devirtualised and inlined.
/// </summary>
internal interface IWaitStrategy
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
