using LowLatency.Features.Serving;
using LowLatency.Features.Store;

namespace LowLatency.Join;

/// <summary>
/// What one join works in, rented from its plan and returned after: the store reads, the rows they
/// land in, which read serves each request row, and the deadline's cancellation. Sized for the
/// model's largest batch, so a warm join allocates nothing.
/// </summary>
internal sealed class JoinScratch
{
    public JoinScratch(JoinPlan plan)
    {
        int rows = plan.Config.MaxBatchSize;
        Reads = new RowRead[plan.Views.Length * rows];
        Values = new byte[plan.ScratchRowBytes * rows];
        ReadOf = new int[plan.Views.Length * rows];
        Statuses = new FieldStatus[Reads.Length];
    }

    /// <summary>[read]: what each read's row is; defaults replace all but PRESENT ones.</summary>
    public FieldStatus[] Statuses { get; }

    /// <summary>The store reads; view v's rows are read into <see cref="Values"/> at its offset times the batch.</summary>
    public RowRead[] Reads { get; }

    public byte[] Values { get; }

    /// <summary>[view * MaxBatchSize + row]: the read that serves that view for that request row.</summary>
    public int[] ReadOf { get; }

    /// <summary>Cancelled when the join's share of the deadline is spent; reset for the next join.</summary>
    public CancellationTokenSource Deadline { get; private set; } = new();

    public void ResetDeadline()
    {
        if (!Deadline.TryReset())
        {
            Deadline.Dispose();
            Deadline = new CancellationTokenSource();
        }
    }
}
