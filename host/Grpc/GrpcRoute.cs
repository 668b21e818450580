namespace LowLatency.Host.Grpc;

/// <summary>Endpoint metadata on the routes the host serves as gRPC itself (ModelInfer): like Grpc.AspNetCore's own, they answer only on the gRPC listener.</summary>
internal sealed class GrpcRoute
{
    public static readonly GrpcRoute Instance = new();

    private GrpcRoute()
    {
    }
}
