namespace LowLatency.Engine.Scheduling;

/// <summary>An autoscaler's decision and why, in words for the log.</summary>
public readonly record struct AutoscaleDecision(AutoscaleAction Action, string Reason);
