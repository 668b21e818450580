namespace LowLatency.Host.Grpc;

/// <summary>
/// Set on every connection the gRPC listener accepts (a connection feature, which Kestrel's request
/// features fall back to): gRPC routes answer only there, and the REST routes everywhere else.
/// </summary>
internal sealed class GrpcListenerFeature
{
    public static readonly GrpcListenerFeature Instance = new();

    private GrpcListenerFeature()
    {
    }

    public static bool On(HttpContext ctx) => ctx.Features.Get<GrpcListenerFeature>() is not null;
}
