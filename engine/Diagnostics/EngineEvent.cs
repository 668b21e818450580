namespace LowLatency.Engine.Diagnostics;

/// <summary>
/// One thing the engine tells its host's log, with the model and version as fields of their own, so
/// that a JSON log can be filtered and alerted on by model, and by <see cref="IsWarning"/>: a failed
/// reload leaves the old version serving, which an operator must still hear about.
/// </summary>
/// <param name="Model">The model it concerns, or null.</param>
/// <param name="Version">The version it concerns, or null.</param>
/// <param name="Message">The whole story in words, model and version included.</param>
/// <param name="IsWarning">Something went wrong or is not as configured; otherwise information.</param>
public readonly record struct EngineEvent(EngineEventKind Kind, string? Model, string? Version, string Message, bool IsWarning = false);
