namespace LowLatency.Features.Definitions;

/// <summary>A feature service as its file states it: its references still text (<c>view:feature</c>) with their paths.</summary>
internal sealed record ServiceDraft(
    string File,
    string Path,
    string Name,
    IReadOnlyList<(string Reference, string Path)> References,
    string Description,
    IReadOnlyDictionary<string, string> Tags);
