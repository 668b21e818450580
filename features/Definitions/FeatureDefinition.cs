namespace LowLatency.Features.Definitions;

/// <summary>
/// One feature of a view: its element type and shape, where its bytes lie in the view's packed row,
/// and its default (what a model input gets where the value is missing or too old).
/// </summary>
public sealed class FeatureDefinition
{
    public required string Name { get; init; }

    public required FeatureDataType DataType { get; init; }

    /// <summary>The value's shape; empty for a scalar.</summary>
    public required IReadOnlyList<int> Shape { get; init; }

    /// <summary>Elements in one value: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public required int ElementCount { get; init; }

    /// <summary>Bytes of one value: <see cref="ElementCount"/> elements of <see cref="DataType"/>.</summary>
    public int ByteSize => ElementCount * DataType.ElementSize();

    /// <summary>Where the value starts in its view's packed row.</summary>
    public required int Offset { get; init; }

    /// <summary>The default value, packed as in a row (<see cref="ByteSize"/> bytes).</summary>
    public required ReadOnlyMemory<byte> Default { get; init; }

    /// <summary>For a feature of a stream view: the aggregation that computes it; null for a derived one.</summary>
    public FeatureAggregation? Aggregation { get; init; }

    /// <summary>For a feature of a stream view: the two features it is the ratio of; null for an aggregated one.</summary>
    public DerivedFeature? Derived { get; init; }

    public string Description { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}
