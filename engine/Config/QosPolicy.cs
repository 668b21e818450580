
namespace LowLatency.Engine.Config;

/// <summary>One QoS class's batching window and deadline (µs); 0 for no deadline.</summary>
public sealed record QosPolicy(long WindowMicroseconds, long DeadlineMicroseconds);
