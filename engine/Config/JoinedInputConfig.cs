namespace LowLatency.Engine.Config;

/// <summary>Model input <paramref name="Input"/>, filled per row with <paramref name="Features"/> (<c>view:feature</c>) in order.</summary>
public sealed record JoinedInputConfig(int Input, IReadOnlyList<string> Features);
