namespace LowLatency.Engine.Scheduling;

/// <summary>
/// Live estimates of a model version's execution time per batch size (µs), learned from every batch
/// run: an exponentially weighted average per size, interpolated for sizes not yet seen. Written by
/// device workers, read by the scheduler for admission control; each entry is one aligned long, so a
/// read is never torn and no lock is needed.
/// </summary>
public sealed class ComputeEstimator
{
    private readonly long[] _microsX16;

    public ComputeEstimator(int maxBatchSize)
    {
        _microsX16 = new long[Math.Max(1, maxBatchSize) + 1];
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
        }
    }

    /// <summary>Estimated µs to run a batch of <paramref name="rows"/>; 0 when nothing has been measured yet.</summary>
    public long Estimate(int rows)
    {
        rows = Math.Clamp(rows, 1, MaxBatchSize);
        long exact = Volatile.Read(ref _microsX16[rows]);
        if (exact != 0)
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

        long lo = below > 0 ? Volatile.Read(ref _microsX16[below]) : 0;
        long hi = above <= MaxBatchSize ? Volatile.Read(ref _microsX16[above]) : 0;
        if (lo != 0 && hi != 0)
        {
            return (lo + ((hi - lo) * (rows - below) / (above - below))) / 16;
        }

        // One side only: scale in proportion to the rows (pessimistic upwards, as batching is sublinear).
        return lo != 0 ? lo * rows / below / 16 : hi != 0 ? Math.Max(1, hi * rows / above / 16) : 0;
    }
}
