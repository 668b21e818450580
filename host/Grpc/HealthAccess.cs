using Grpc.AspNetCore.Server;
using Grpc.HealthCheck;
using LowLatency.Host.Security;

namespace LowLatency.Host.Grpc;

/// <summary>
/// <c>grpc.health.v1.Health</c> answers as the REST health routes do under <c>LowLatency:Auth:Health</c>
/// (open by default, so that probes need no credential): otherwise its refusal is the call's status.
/// </summary>
internal static class HealthAccess
{
    public static void Use(WebApplication app)
    {
        var access = app.Services.GetRequiredService<AccessOptions>();
        if (!access.Enabled || access.Health == AccessLevel.Open)
        {
            return;
        }

        app.Use(async (ctx, next) =>
        {
            if (ctx.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } method && method.ServiceType == typeof(HealthServiceImpl)
                && await Access.OperationsAsync(ctx, a => a.Health) is { } refusal)
            {
                GrpcAnswer.Status(ctx.Response, GrpcStatus.FromHttp(refusal.StatusCode), refusal.Message);
                return;
            }

            await next(ctx);
        });
    }
}
