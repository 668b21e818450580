namespace LowLatency.Features.Store;

/// <summary>One row to write: a view's packed values for one entity, as of an event time (µs since the Unix epoch, UTC, not negative).</summary>
public readonly record struct RowWrite(Definitions.FeatureView View, EntityKey Entity, long EventTimeMicros, ReadOnlyMemory<byte> Values);
