using Grpc.AspNetCore.Server;

namespace LowLatency.Host.Grpc;

/// <summary>
/// gRPC routes answer only on the gRPC listener and the REST routes only on theirs: the same
/// Kestrel serves both, and a route reachable on the other listener would dodge what that listener's
/// settings mean (its address, its TLS). A request for the other listener's routes gets 404. After
/// routing, so the endpoint is known: one feature lookup and one metadata lookup per request.
/// </summary>
internal static class ListenerSeparation
{
    public static void Use(WebApplication app) =>
        app.Use((ctx, next) =>
        {
            if (ctx.GetEndpoint() is { } endpoint && IsGrpc(endpoint) != GrpcListenerFeature.On(ctx))
            {
                ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(ctx);
        });

    private static bool IsGrpc(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null || endpoint.Metadata.GetMetadata<GrpcRoute>() is not null;
}
