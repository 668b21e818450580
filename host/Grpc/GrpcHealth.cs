using Grpc.Health.V1;
using Grpc.HealthCheck;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;

namespace LowLatency.Host.Grpc;

/// <summary>
/// <c>grpc.health.v1.Health</c> (Kubernetes' gRPC probes) kept current: service "" is the server's
/// readiness (<c>/v2/health/ready</c>), and each served model's name its readiness
/// (<c>/v2/models/{name}/ready</c>). Read from the engine every <see cref="Interval"/> (the engine
/// has no change events to follow), and at once when shutdown begins; a model no longer served
/// goes to NOT_SERVING, a name never served is unknown (NOT_FOUND on Check, as the protocol has it).
/// </summary>
internal sealed class GrpcHealth(HealthServiceImpl health, InferenceEngine engine, IHostApplicationLifetime lifetime) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopping = lifetime.ApplicationStopping.Register(Refresh);
        using var timer = new PeriodicTimer(Interval);
        do
        {
            Refresh();
        }
        while (await Wait(timer, stoppingToken));
    }

    private static async Task<bool> Wait(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sets every status from the engine as it is now; the health service tells watchers of changes only.</summary>
    public void Refresh()
    {
        lock (_known)
        {
            bool serving = engine.IsReady && !engine.IsStopping;
            health.SetStatus("", serving ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing);
            var now = new HashSet<string>(StringComparer.Ordinal);
            foreach (var model in engine.Models)
            {
                now.Add(model.Name);
                bool ready = serving && engine.Find(model.Name, null, out _, out _) == InferenceStatus.Ok;
                health.SetStatus(model.Name, ready ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing);
            }

            foreach (var gone in _known)
            {
                if (!now.Contains(gone))
                {
                    health.SetStatus(gone, HealthCheckResponse.Types.ServingStatus.NotServing);
                }
            }

            _known.UnionWith(now);
        }
    }
}
