using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway;
using LowLatency.Gateway.Routing;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// The route both faces take: a name the gateway knows as an alias goes to the backend it picks
/// (docs/gateway.md), anything else straight to the engine. One dictionary lookup for a request
/// that names a model, none when the repository has no aliases.
/// </summary>
internal static class GatewayRoute
{
    /// <summary>Names a backend of the alias the request wants, when that backend takes traffic (gRPC: the same metadata key).</summary>
    public const string PreferenceHeader = "X-Model-Preference";

    /// <summary>On an answer an alias routed: the backend that gave it (its model and version are the answer's model_name and model_version).</summary>
    public const string BackendHeader = "X-LowLatency-Backend";

    /// <summary>The trace context passed on to a remote backend (W3C Trace Context).</summary>
    public const string TraceParentHeader = "traceparent";

    public const string TraceStateHeader = "tracestate";

    /// <summary>
    /// Routes the request; an alias may choose a remote backend that the face <paramref name="remote"/>
    /// can forward to (REST over HTTP, gRPC to a backend's grpc_url): <paramref name="call"/> says so,
    /// nothing routed yet. The backend is named in the response's headers unless <paramref name="nameBackend"/>
    /// is false (a stream's requests share one response; their answers name their model).
    /// </summary>
    public static InferenceStatus Route(HttpContext ctx, ModelGateway gateway, InferenceEngine engine, string name, string? version, out Routed routed, out BackendCall call, out string? error, RemoteFace remote = RemoteFace.None, bool nameBackend = true)
    {
        var routingKey = ctx.Request.Headers[InferenceEndpoint.RoutingKeyHeader];
        string? key = routingKey.Count > 0 ? routingKey[0] : null;
        if (version is null && gateway.TryGet(name, out var alias))
        {
            var preference = ctx.Request.Headers[PreferenceHeader];
            var status = alias.Route(engine, preference.Count > 0 ? preference[0] : null, key, out routed, out call, out error, remote);
            if (status == InferenceStatus.Ok && nameBackend)
            {
                ctx.Response.Headers[BackendHeader] = call.BackendName;
            }

            return status;
        }

        call = default;
        return engine.Route(name, version, key, out routed, out error);
    }
}
