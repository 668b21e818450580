using LowLatency.Engine.Serving;
using LowLatency.Features.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Memory;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// Feast's feature server, on the same paths and in the same shapes as its Python server:
/// <c>POST /get-online-features</c> (scope <c>features:read</c>) and <c>POST /push</c> (scope
/// <c>features:write</c>), in JSON or MessagePack, over the <see cref="FeatureStore"/> of
/// <c>LowLatency:FeatureRepository</c>. Mapped whether or not one is configured: without one they
/// answer 404 saying what to set, rather than a bare 404 that looks like a wrong URL.
/// </summary>
internal static class FeatureEndpoints
{
    public const string GetOnlineFeaturesPath = "/get-online-features";
    public const string PushPath = "/push";

    public static void Map(WebApplication app, long maxRequestBodyBytes)
    {
        var services = new FeatureCall.Services(
            app.Services.GetService<FeatureStore>(),
            app.Services.GetRequiredService<InferenceEngine>(),
            maxRequestBodyBytes,
            app.Services.GetRequiredService<AccessOptions>(),
            app.Services.GetRequiredService<RateLimits>(),
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ClientFaultLog.Category),
            app.Services.GetRequiredService<BodyBudget>(),
            app.Services.GetRequiredService<Unanswered>());
        app.MapPost(GetOnlineFeaturesPath, (HttpContext ctx) => GetOnlineFeaturesAsync(ctx, services));
        app.MapPost(PushPath, (HttpContext ctx) => PushAsync(ctx, services));
    }

    private static async Task GetOnlineFeaturesAsync(HttpContext ctx, FeatureCall.Services services)
    {
        await using var call = await FeatureCall.BeginAsync(ctx, services, Scopes.FeaturesRead);
        if (call is null)
        {
            return;
        }

        try
        {
            var request = FeatureRequestDecoder.GetOnlineFeatures(call.RequestFormat, call.Body, out var document);
            using (document)
            {
                var answer = await call.Server.GetOnlineFeaturesAsync(request, ctx.RequestAborted);
                await call.AnswerAsync(answer, FeatureResponseWriter.WriteOnlineFeatures);
            }
        }
        catch (Exception e) when (FeatureCall.Handles(e))
        {
            await call.FailAsync(e);
        }
    }

    private static async Task PushAsync(HttpContext ctx, FeatureCall.Services services)
    {
        await using var call = await FeatureCall.BeginAsync(ctx, services, Scopes.FeaturesWrite);
        if (call is null)
        {
            return;
        }

        try
        {
            var request = FeatureRequestDecoder.Push(call.RequestFormat, call.Body, out var document);
            using (document)
            {
                var result = await call.Server.PushAsync(request, ctx.RequestAborted);
                await call.AnswerAsync(result, FeatureResponseWriter.WritePush);
            }
        }
        catch (Exception e) when (FeatureCall.Handles(e))
        {
            await call.FailAsync(e);
        }
    }
}
