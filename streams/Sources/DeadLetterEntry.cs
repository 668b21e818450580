namespace LowLatency.Streams.Sources;

/// <summary>Entry <see cref="Index"/> of <see cref="Batch"/>, refused by <see cref="View"/> (null: by every view, unreadable) for <see cref="Reason"/>.</summary>
public readonly record struct DeadLetterEntry(ISourceBatch Batch, int Index, string? View, string Reason);
