
namespace LowLatency.Engine.Diagnostics;

/// <summary>
/// The engine's instrument descriptions, written once: the meter's instruments carry them, and the
/// host's Prometheus exporter, which re-creates the per-request series without the meter, gives them
/// as its help texts (with the unit where the meter carries it separately).
/// </summary>
public static class EngineMetricDescriptions
{
    public const string Requests = "Requests answered by the engine, by outcome";
    public const string Duration = "From submission to the engine's answer (queue + compute + overhead)";
    public const string Queue = "Waiting for a batch to form and a worker to be free";
    public const string Compute = "Model execution of the batch holding the request";
    public const string Overhead = "Scheduling overhead: (execution start - batch eligible) + (completion - execution end)";
    public const string BatchRows = "Rows per executed batch";
    public const string Routed = "Requests routed to a version, by how (version, split, key, fallback_model, fallback_response)";
}
