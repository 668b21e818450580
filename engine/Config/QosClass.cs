namespace LowLatency.Engine.Config;

/// <summary>
/// A request's quality-of-service class (request parameter <c>qos</c>): each has its own batching
/// window, deadline and priority, from the model's <c>qos</c> configuration or the defaults.
/// </summary>
public enum QosClass : byte
{
    /// <summary>No class named: the model's own dynamic-batching settings apply.</summary>
    None,
    Realtime,
    Balanced,
    Throughput,
}
