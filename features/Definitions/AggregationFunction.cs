namespace LowLatency.Features.Definitions;

/// <summary>What a stream feature computes over the events of its window.</summary>
public enum AggregationFunction
{
    Count,
    Sum,
    Min,
    Max,
    Mean,

    /// <summary>Distinct values of the field: exact up to 64 of them, then a k-minimum-values estimate (k = 64).</summary>
    DistinctCount,

    /// <summary>The field of the event with the latest event time (the later entry in the stream on a tie).</summary>
    Last,
}
