namespace LowLatency.Features.Definitions;

/// <summary>Only events whose <see cref="Field"/> holds exactly <see cref="EqualsValue"/> (compared as bytes) count.</summary>
public sealed record EventFilter(string Field, string EqualsValue);
