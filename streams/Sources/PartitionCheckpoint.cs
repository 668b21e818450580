namespace LowLatency.Streams.Sources;

/// <summary>A partition's last checkpoint: the largest event time, the position after which reading resumes, and every key's state.</summary>
public sealed record PartitionCheckpoint(long MaxEventTime, string Position, IReadOnlyList<(string Field, byte[] Value)> Keys);
