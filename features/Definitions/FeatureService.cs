namespace LowLatency.Features.Definitions;

/// <summary>Feast's feature service: a named list of features that one model consumes, read together.</summary>
public sealed class FeatureService
{
    public required string Name { get; init; }

    public required IReadOnlyList<FeatureReference> Features { get; init; }

    public string Description { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public string File { get; init; } = string.Empty;
}
