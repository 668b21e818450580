using System.Runtime.CompilerServices;
using LowLatency.Engine.Serving;
using Microsoft.AspNetCore.Connections.Features;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// From SIGTERM until Kestrel stops accepting (the drain delay), every answer closes its connection
/// and every 503 says when to retry: HTTP/1.1 answers carry <c>Connection: close</c> and HTTP/2
/// connections get GOAWAY (both through Kestrel's <see cref="IConnectionLifetimeNotificationFeature"/>),
/// so a client that keeps its connections alive reconnects, through its load balancer, while this
/// instance still answers, instead of being cut when it stops.
/// </summary>
internal static class DrainingResponses
{
    /// <summary>What a 503 of the shutdown says: retry at once (elsewhere, once the balancer has seen readiness go).</summary>
    public const string RetryAfterSeconds = "1";

    public static void Use(WebApplication app)
    {
        var engine = app.Services.GetRequiredService<InferenceEngine>();
        // Stopping begun without the engine stopping: leaving for a process beside this one (SIGUSR2),
        // answers served as usual but closing their connections all the same.
        var stopping = app.Lifetime.ApplicationStopping;
        // Serving: two volatile reads per request, nothing allocated.
        app.Use((ctx, next) =>
        {
            if (engine.IsStopping || stopping.IsCancellationRequested)
            {
                Drain(ctx);
            }

            return next(ctx);
        });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Drain(HttpContext ctx)
    {
        ctx.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        ctx.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            if (response.StatusCode == StatusCodes.Status503ServiceUnavailable && !response.Headers.ContainsKey("Retry-After"))
            {
                response.Headers.RetryAfter = RetryAfterSeconds;
            }

            return Task.CompletedTask;
        }, ctx.Response);
    }
}
