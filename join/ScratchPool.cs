namespace LowLatency.Join;

/// <summary>
/// A few <see cref="JoinScratch"/> kept for reuse: a rent takes any kept one, a return fills any
/// empty slot, both with one interlocked exchange and no lock; past the slots, a rent makes a new
/// one and a return lets it go.
/// </summary>
internal sealed class ScratchPool(JoinPlan plan)
{
    private readonly JoinScratch?[] _slots = new JoinScratch?[Math.Max(4, 2 * Environment.ProcessorCount)];

    public JoinPlan Plan { get; } = plan;

    public JoinScratch Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is not null && Interlocked.Exchange(ref _slots[i], null) is { } kept)
            {
                return kept;
            }
        }

        return new JoinScratch(Plan);
    }

    public void Return(JoinScratch scratch)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is null && Interlocked.CompareExchange(ref _slots[i], scratch, null) is null)
            {
                return;
            }
        }
    }
}
