namespace LowLatency.Engine.Config;

/// <summary>
/// What a request gets when no version of its model is healthy (this server's <c>fallback</c>
/// extension field): another model's answer, or fixed outputs; either is flagged as degraded.
/// </summary>
public sealed record FallbackConfig(string? Model, IReadOnlyList<FixedOutput> Outputs);
