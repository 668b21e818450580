namespace LowLatency.Features.Store;

/// <summary>
/// One (view, entity) row of a read: the caller names the view and the entity and gives the
/// destination for the row's packed values (<see cref="Definitions.FeatureView.RowBytes"/> bytes,
/// for instance a slice of a request's pinned input buffer); the read sets <see cref="State"/> and
/// <see cref="EventTimeMicros"/> and copies the values straight into the destination.
/// </summary>
public struct RowRead(Definitions.FeatureView view, EntityKey entity, Memory<byte> destination)
{
    public Definitions.FeatureView View { get; } = view;

    public EntityKey Entity { get; } = entity;

    public Memory<byte> Destination { get; } = destination;

    public RowState State { get; set; }

    /// <summary>When the row's values were true, in µs since the Unix epoch (UTC); set when found.</summary>
    public long EventTimeMicros { get; set; }
}
