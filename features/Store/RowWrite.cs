namespace LowLatency.Features.Store;

/// <summary>
/// One row to write: a view's packed values for one entity, as of an event time (µs since the Unix
/// epoch, UTC, not negative). <see cref="Revision"/> orders rows of one event time (0 to
/// <see cref="RowLayout.MaxRevision"/>): a stream view's later value of a window it already wrote.
/// </summary>
public readonly record struct RowWrite(Definitions.FeatureView View, EntityKey Entity, long EventTimeMicros, ReadOnlyMemory<byte> Values, int Revision = 0);
