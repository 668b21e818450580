
namespace LowLatency.Engine.Diagnostics;

/// <summary>Makes the sink of a (model, version); the same one for the same labels, whichever engine or reload asks.</summary>
public interface IRequestMetricsExporter
{
    IRequestMetricsSink For(string model, string version);
}
