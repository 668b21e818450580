namespace LowLatency.Gateway.Weights;

/// <summary>A tick's answers and latency, and the window's answers and errors up to it.</summary>
public readonly record struct WindowTotals(long TickRequests, long TickLatencyUs, long WindowRequests, long WindowErrors);
