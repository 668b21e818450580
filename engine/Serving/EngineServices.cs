using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;
using LowLatency.Engine.Time;

namespace LowLatency.Engine.Serving;

/// <summary>
/// What every model version of one engine shares: the clock health is judged against, the routing
/// epoch breakers bump, and (tests only) a wrapper around each worker's runner to inject faults.
/// </summary>
internal sealed record EngineServices(IClock Clock, RoutingEpoch Epoch, Func<ModelVersion, IBatchRunner, IBatchRunner>? WrapRunner)
{
    /// <summary>The server's own bounds on a request, on top of each model's.</summary>
    public RequestLimits Limits { get; init; } = RequestLimits.None;

    public static EngineServices Default() => new(SystemClock.Instance, new RoutingEpoch(), null);
}
