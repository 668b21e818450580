namespace LowLatency.Features.Serving;

/// <summary>
/// One column of an online-features answer (Feast's <c>FeatureVector</c>): a value, a status and an
/// event time per entity row. Values are bool, long, float or double, a flat array of those for a
/// feature with a shape, or null when not found.
/// </summary>
public sealed class FeatureVector(object?[] values, FieldStatus[] statuses, DateTimeOffset[] eventTimestamps)
{
    public IReadOnlyList<object?> Values { get; } = values;

    public IReadOnlyList<FieldStatus> Statuses { get; } = statuses;

    public IReadOnlyList<DateTimeOffset> EventTimestamps { get; } = eventTimestamps;
}
