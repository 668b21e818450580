namespace LowLatency.Engine.Scheduling;

/// <summary>
/// How long before a batching deadline the scheduler thread wakes an idle worker, so that the worker
/// is spinning, not parked, when the window expires. Two late wake-ups stand between a parked
/// scheduler thread and a batch that starts on time: its own timed park returning late, and then
/// the futex wake of the parked worker. Both are a core coming back from idle, which depends on the
/// host and the day (docs/performance.md#wake-lead). So the lead is measured, not fixed: the
/// decaying peak of each lateness, plus half again; never under 500 µs, never over 2 ms (an idle
/// worker spins the whole lead for every window that expires on it). A wait shorter than the lead
/// has no park to measure and counts as on time, so that a lead grown to a model's window length
/// decays instead of sticking.

/// </summary>
internal sealed class WakeLead
{
    public const long FloorMicroseconds = 500;
    public const long CapMicroseconds = 2_000;

    // Written by the scheduler thread only.
    private long _timerPeakUs;

    // Written by the version's workers: two racing writes can lose one sample, which a peak that
    // only decays by 1/64 a sample does not miss.
    private long _wakePeakUs;

    public long Microseconds
    {
        get
        {
            long sum = Volatile.Read(ref _timerPeakUs) + Volatile.Read(ref _wakePeakUs);
            return Math.Clamp(sum + (sum / 2), FloorMicroseconds, CapMicroseconds);
        }
    }

    internal long TimerPeakMicroseconds => Volatile.Read(ref _timerPeakUs);

    internal long WorkerWakePeakMicroseconds => Volatile.Read(ref _wakePeakUs);

    /// <summary>How late (µs) a timed park of the scheduler thread returned, past the time it asked for.</summary>
    public void RecordTimerLateness(long lateUs) => Volatile.Write(ref _timerPeakUs, Decay(_timerPeakUs, lateUs));

    /// <summary>How long (µs) a worker woken ahead of a deadline took to run, from the signal.</summary>
    public void RecordWorkerWake(long wakeUs) => Volatile.Write(ref _wakePeakUs, Decay(Volatile.Read(ref _wakePeakUs), wakeUs));

    /// <summary>
    /// A peak that follows a late sample at once and forgets it slowly, by 1/64 per sample: about
    /// the worst of the last hundred or so (a p99 target needs the lead to cover that many), where
    /// 1/16 forgets a late one within a few windows and leaves the next uncovered. Rounded up, so
    /// that a peak under 64 µs decays too. Negative samples count as 0.
    /// </summary>
    internal static long Decay(long peak, long sample) => Math.Max(Math.Max(0, sample), peak - ((peak + 63) / 64));
}
