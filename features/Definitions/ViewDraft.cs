namespace LowLatency.Features.Definitions;

/// <summary>A feature view as its file states it, before its names are resolved against the whole repository.</summary>
internal sealed record ViewDraft(
    string File,
    string Path,
    string Name,
    string EntityName,
    long TtlSeconds,
    string StoreName,
    string? SourceName,
    StreamDraft? Stream,
    IReadOnlyList<FeatureDefinition> Features,
    string Description,
    IReadOnlyDictionary<string, string> Tags);
