using LowLatency.Engine.Serving;

namespace LowLatency.Host.Endpoints;

/// <summary>Liveness and readiness, as KServe v2 defines them; not-ready answers 503 so load balancers act on the status alone.</summary>
internal static class HealthEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/v2/health/live", () => Results.Json(new LiveResponse(true), HostJson.Answers.LiveResponse));
        app.MapGet("/v2/health/ready", (InferenceEngine engine) => engine.IsReady
            ? Results.Json(new ReadyResponse(true), HostJson.Answers.ReadyResponse)
            : Results.Json(new ReadyResponse(false), HostJson.Answers.ReadyResponse, statusCode: StatusCodes.Status503ServiceUnavailable));
    }
}
