namespace LowLatency.Features.Definitions;

/// <summary>A view's <c>stream</c> block as its file states it, before the source's name is resolved.</summary>
internal sealed record StreamDraft(string Path, string SourceName, StreamWindow Window, long AllowedLatenessMs);
