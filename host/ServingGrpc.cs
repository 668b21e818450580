using Grpc.AspNetCore.Server.Model;
using Grpc.HealthCheck;
using LowLatency.Engine.Serving;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Grpc;
using LowLatency.Host.Memory;
using LowLatency.Host.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LowLatency.Host;

/// <summary>
/// The gRPC face (host/Grpc) added to the server (a name not starting "Grpc", which the layer check would take for the folder): its listener beside the REST one in the same
/// Kestrel, Grpc.AspNetCore for the RPCs it serves, the host's own ModelInfer, and the health service.
/// </summary>
internal static class ServingGrpc
{
    public static void Add(WebApplicationBuilder builder, GrpcOptions grpc, ServerOptions server, IReadOnlyList<string> restUrls, HandedSockets handed)
    {
        var listeners = new Listeners();
        builder.Services.AddSingleton(listeners);
        // Kestrel ignores urls once Listen is called (warning that it does): both sets are bound here,
        // and the urls the host hands Kestrel are cleared before it starts.
        CodeBoundServer.Register(builder.Services);
        // A socket handed in by the service manager replaces the URLs of its kind.
        builder.WebHost.ConfigureKestrel(k =>
        {
            listeners.Configure(k, handed.Rest.Any() ? [] : restUrls, handed.Grpc.Any() ? [] : grpc.UrlList);
            foreach (var socket in handed.All)
            {
                listeners.ListenHandle(k, socket.Descriptor, socket.Grpc, socket.Https);
            }
        });
        builder.Services.AddGrpc(o =>
        {
            // Every RPC but the inference ones takes what a repository route's body may be: Grpc.AspNetCore
            // reads a unary message whole before its method checks access, and a larger limit would let
            // an unauthenticated caller make the server hold that much per call. Past it RESOURCE_EXHAUSTED.
            o.MaxReceiveMessageSize = (int)Math.Min(server.MaxRequestBodyBytes, RepositoryEndpoints.MaxBody);
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
        });
        // A stream's request as large as an inference body (a message past it ends the stream);
        // ModelInfer, the host's own endpoint, applies the same limit from the message's prefix.
        builder.Services.AddGrpc().AddServiceOptions<GrpcStreamInfer>(o => o.MaxReceiveMessageSize = (int)Math.Min(server.MaxRequestBodyBytes, int.MaxValue));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<GrpcInferenceService>, GrpcServiceMethods>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<GrpcStreamInfer>, GrpcStreamMethods>());
        builder.Services.AddSingleton(s => new GrpcServices(
            s.GetRequiredService<InferenceEngine>(),
            server.MaxRequestBodyBytes,
            s.GetRequiredService<RateLimits>(),
            s.GetRequiredService<AccessOptions>(),
            s.GetRequiredService<ILoggerFactory>().CreateLogger(ClientFaultLog.Category),
            s.GetRequiredService<BodyBudget>(),
            s.GetRequiredService<Unanswered>(),
            new NameCache(),
            s.GetService<LowLatency.Join.FeatureJoiner>(),
            s.GetRequiredService<LowLatency.Gateway.ModelGateway>()));
        builder.Services.AddSingleton<GrpcStreamInfer>();
        builder.Services.AddSingleton<GrpcInferenceService>();
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddSingleton<GrpcHealth>();
        builder.Services.AddHostedService(s => s.GetRequiredService<GrpcHealth>());
    }

    public static void Map(WebApplication app)
    {
        GrpcInferEndpoint.Map(app, app.Services.GetRequiredService<GrpcServices>());
        app.MapGrpcService<GrpcInferenceService>();
        app.MapGrpcService<GrpcStreamInfer>();

        app.MapGrpcService<HealthServiceImpl>();
    }
}
