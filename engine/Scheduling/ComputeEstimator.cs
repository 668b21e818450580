namespace LowLatency.Engine.Scheduling;

/// <summary>
/// Live estimates of a model version's execution time per batch size (µs), learned from every batch
/// run: an exponentially weighted average per size, interpolated for sizes not yet seen. Written by
/// device workers, read by the scheduler for admission control; each entry is one aligned long, so a
/// read is never torn and no lock is needed.
/// </summary>
internal sealed class ComputeEstimator
{
    private readonly long[] _microsX16;

    // The mean deviation per size (as TCP keeps RTTVAR beside SRTT), for decisions that must hold
    // for most batches, not the average one: an answer deadline.
    private readonly long[] _deviationX16;

    public ComputeEstimator(int maxBatchSize)
    {
        _microsX16 = new long[Math.Max(1, maxBatchSize) + 1];
        _deviationX16 = new long[_microsX16.Length];
    }

    public int MaxBatchSize => _microsX16.Length - 1;

    /// <summary>Records one batch of <paramref name="rows"/> that took <paramref name="micros"/> µs.</summary>
    public void Record(int rows, long micros)
    {
        if (rows < 1 || rows >= _microsX16.Length)
        {
            return;
        }

        long sample = Math.Max(1, micros) * 16;
        long old = Volatile.Read(ref _microsX16[rows]);
        if (old != 0)
        {
            // One slow batch (a GC pause, a preempted thread) must not make admission control reject
            // realtime requests for a while: a sample counts for at most twice the estimate. A real
            // slowdown still shows within a few batches (each can raise it by a quarter).
            sample = Math.Min(sample, old * 2);
            long deviation = Volatile.Read(ref _deviationX16[rows]);
            Volatile.Write(ref _deviationX16[rows], deviation + ((Math.Abs(sample - old) - deviation) / 4));
        }

        // Weight 1/4: follows a change within a few batches.
        Volatile.Write(ref _microsX16[rows], old == 0 ? sample : old + ((sample - old) / 4));
    }

    /// <summary>Forgets every estimate (after warm-up runs, whose first calls include one-time optimisation).</summary>
    public void Reset()
    {
        for (int i = 0; i < _microsX16.Length; i++)
        {
            Volatile.Write(ref _microsX16[i], 0);
            Volatile.Write(ref _deviationX16[i], 0);
        }
    }

    /// <summary>Estimated µs to run a batch of <paramref name="rows"/> (the mean); 0 when nothing has been measured yet.</summary>
    public long Estimate(int rows) => Interpolate(_microsX16, rows);

    /// <summary>
    /// A batch of <paramref name="rows"/> as long as most take: the mean and two mean deviations. What
    /// an answer deadline is checked against: batches vary widely under overload, and requests
    /// admitted on the mean were answered after their deadline (docs/performance.md#past-capacity).

    /// </summary>
    public long EstimateHigh(int rows) => Interpolate(_microsX16, rows) + Margin(rows);

    /// <summary>Two mean deviations of a batch of <paramref name="rows"/>: what <see cref="EstimateHigh"/> adds to the mean.</summary>
    public long Margin(int rows) => 2 * Interpolate(_deviationX16, rows);

    private long Interpolate(long[] table, int rows)
    {
        rows = Math.Clamp(rows, 1, MaxBatchSize);
        long exact = Volatile.Read(ref table[rows]);
        if (exact != 0 || Volatile.Read(ref _microsX16[rows]) != 0)
        {
            return exact / 16;
        }

        int below = rows - 1;
        while (below > 0 && Volatile.Read(ref _microsX16[below]) == 0)
        {
            below--;
        }

        int above = rows + 1;
        while (above <= MaxBatchSize && Volatile.Read(ref _microsX16[above]) == 0)
        {
            above++;
        }

        long lo = below > 0 ? Volatile.Read(ref table[below]) : 0;
        long hi = above <= MaxBatchSize ? Volatile.Read(ref table[above]) : 0;
        bool hasLo = below > 0, hasHi = above <= MaxBatchSize;
        if (hasLo && hasHi)
        {
            return (lo + ((hi - lo) * (rows - below) / (above - below))) / 16;
        }

        // One side only: scale in proportion to the rows (pessimistic upwards, as batching is sublinear).
        return hasLo ? lo * rows / below / 16 : hasHi ? Math.Max(table == _microsX16 ? 1 : 0, hi * rows / above / 16) : 0;
    }
}
