using Grpc.AspNetCore.Server.Model;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Binds <c>ModelStreamInfer</c> to <see cref="GrpcStreamInfer"/>, a service type of its own so that
/// its messages may be as large as an inference body (<c>LowLatency:MaxRequestBodyBytes</c>) while
/// the other RPCs of <c>inference.GRPCInferenceService</c> keep a small limit: Grpc.AspNetCore reads a
/// unary message whole before the method's access check runs, and takes its size limit per service.
/// </summary>
internal sealed class GrpcStreamMethods(GrpcStreamInfer stream) : IServiceMethodProvider<GrpcStreamInfer>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<GrpcStreamInfer> context) =>
        context.AddDuplexStreamingMethod(stream.Method, [], static (service, requests, responses, call) => service.RunAsync(requests, responses, call));
}
