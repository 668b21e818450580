using LowLatency.Engine.Serving;
using LowLatency.Gateway;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Endpoints;

namespace LowLatency.Host;

/// <summary>The gateway in the server: its aliases read with the repository, its routes and metrics, its timer stopped with the server.</summary>
internal static class GatewayStartup
{
    /// <summary>Reads <c>aliases.json</c> (an invalid file refuses the start, as a bad config.json does); polled as the repository is under <c>Poll</c>.</summary>
    public static ModelGateway Open(EngineOptions options) =>
        new(options.ModelRepository, options.ModelControlMode == ModelControlMode.Poll ? options.RepositoryPollSeconds : null);

    public static void Map(WebApplication app)
    {
        var gateway = app.Services.GetRequiredService<ModelGateway>();
        GatewayMetrics.Export(gateway);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            GatewayMetrics.Stop(gateway);
            gateway.Dispose();
        });
        GatewayEndpoints.Map(app);
    }
}
