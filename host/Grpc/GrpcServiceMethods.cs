using System.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Inference;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Binds <c>inference.GRPCInferenceService</c> to <see cref="GrpcInferenceService"/> from the
/// generated binder (so names, marshallers and routes are the protocol's own), with three
/// differences: ModelInfer is left out (the host serves it, <see cref="GrpcInferEndpoint"/>: bound
/// here too it would be a second endpoint on the same route); so is ModelStreamInfer, bound with
/// its own marshallers and message limit (<see cref="GrpcStreamMethods"/>); and an RPC the service has no method for (shared
/// memory, trace and log settings) answers UNIMPLEMENTED saying so. The service type does not derive
/// from the generated base, whose own binding would bind every RPC.
/// </summary>
internal sealed class GrpcServiceMethods : IServiceMethodProvider<GrpcInferenceService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<GrpcInferenceService> context) =>
        GRPCInferenceService.BindService(new Binder(context), null);

    private sealed class Binder(ServiceMethodProviderContext<GrpcInferenceService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            if (method.Name == "ModelInfer")
            {
                return;
            }

            var invoker = typeof(GrpcInferenceService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance) is { } m
                ? m.CreateDelegate<UnaryServerMethod<GrpcInferenceService, TRequest, TResponse>>()
                : Unimplemented<TRequest, TResponse>(method.Name);
            context.AddUnaryMethod(method, [], invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            // ModelStreamInfer, the one streaming RPC: GrpcStreamMethods binds it.
        }


        private static UnaryServerMethod<GrpcInferenceService, TRequest, TResponse> Unimplemented<TRequest, TResponse>(string name)
            where TRequest : class
            where TResponse : class
        {
            string what = name.Contains("SharedMemory", StringComparison.Ordinal) ? "shared memory regions" : name == "TraceSetting" ? "trace settings" : "log settings";
            var status = new Status(StatusCode.Unimplemented, $"{name} is not implemented by this server: it has no {what} (tensors travel in the request, tracing is OpenTelemetry's, logging is configured at start)");
            return (_, _, _) => throw new RpcException(status);
        }
    }
}
