using LowLatency.Engine.Requests;

namespace LowLatency.Engine.Diagnostics;

/// <summary>
/// Where one (model, version)'s per-request and per-batch measurements go, bound once per version
/// instead of looked up by tags per measurement. A System.Diagnostics.Metrics listener (prometheus-net's
/// adapter) resolves every measurement's tags to its series again, which cost a large share of the
/// throughput (docs/performance.md#metrics-sinks). Called on the thread pool.

/// </summary>
public interface IRequestMetricsSink
{
    /// <param name="executed">Whether it reached the model; queue, compute and overhead are meaningful only then.</param>
    void OnRequest(InferenceStatus status, long durationUs, bool executed, long queueUs, long computeUs, long overheadUs);

    /// <summary>A batch the model ran: its rows, and how long the execution took.</summary>
    void OnBatch(int rows, long computeUs);

    void OnRouted(RouteKind kind);
}
