namespace LowLatency.Features.Serving;

/// <summary>What a push did: rows written, and rows skipped because the store held one as new or newer (one per view and entity row).</summary>
public readonly record struct PushResult(int Written, int Skipped);
