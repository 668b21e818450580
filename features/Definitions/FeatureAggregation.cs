namespace LowLatency.Features.Definitions;

/// <summary>
/// How a stream view computes one feature: <see cref="Function"/> over the numeric event field
/// <see cref="Field"/> (none for a count), counting only the events <see cref="Where"/> keeps.
/// </summary>
public sealed record FeatureAggregation(AggregationFunction Function, string? Field, EventFilter? Where);
