namespace LowLatency.Features.Definitions;

/// <summary>
/// Feast's push source: a name that pushes address, feeding every feature view that names it as its
/// source. Rows carry their event time in <see cref="TimestampField"/>.
/// </summary>
public sealed class PushSource
{
    public required string Name { get; init; }

    public string TimestampField { get; init; } = "event_timestamp";

    /// <summary>The views whose source this is, in definition order.</summary>
    public IReadOnlyList<FeatureView> Views { get; internal set; } = [];

    public string Description { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public string File { get; init; } = string.Empty;
}
