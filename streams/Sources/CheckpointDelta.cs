namespace LowLatency.Streams.Sources;

/// <summary>
/// What changed in a partition since its last checkpoint, to be made durable in one step: the keys'
/// state (set or deleted), the largest event time, the batches consumed (their entries are acknowledged
/// and the position moves past the last one), and the dead letters those entries produced.
/// </summary>
public sealed class CheckpointDelta
{
    public long MaxEventTime { get; set; } = long.MinValue;

    public List<ISourceBatch> Consumed { get; } = [];

    public List<(string Field, ReadOnlyMemory<byte> Value)> Set { get; } = [];

    public List<string> Deleted { get; } = [];

    public List<DeadLetterEntry> DeadLetters { get; } = [];

    public int Entries
    {
        get
        {
            int n = 0;
            foreach (var b in Consumed)
            {
                n += b.Count;
            }

            return n;
        }
    }

    public void Clear()
    {
        Consumed.Clear();
        Set.Clear();
        Deleted.Clear();
        DeadLetters.Clear();
    }
}
