namespace LowLatency.Streams.Windows;

/// <summary>An entry of the batch (by index) that a view did not take, or that no view could read, and why.</summary>
public readonly record struct DeadLetter(int Entry, string? View, string Reason);
