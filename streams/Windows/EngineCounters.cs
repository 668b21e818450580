namespace LowLatency.Streams.Windows;

/// <summary>What a partition's engine has counted since it was made; the processor turns the differences into metrics.</summary>
public struct EngineCounters
{
    /// <summary>Entries applied: events and heartbeats.</summary>
    public long Entries;

    /// <summary>(event, window) pairs: updates of windows already written (allowed lateness).</summary>
    public long Late;

    /// <summary>(event, view) pairs dropped as later than the allowed lateness.</summary>
    public long Dropped;

    /// <summary>(event, view) pairs refused because the key's state was at its cap.</summary>
    public long CapHits;
}
