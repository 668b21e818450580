using LowLatency.Engine.Serving;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Memory;
using LowLatency.Host.Security;

namespace LowLatency.Host.Grpc;

/// <summary>The singletons the gRPC face uses, resolved once (asking a request's services would make its service scope).</summary>
/// <param name="MaxMessageBytes">The largest message received (<c>LowLatency:MaxRequestBodyBytes</c>); past it, RESOURCE_EXHAUSTED.</param>
internal sealed record GrpcServices(
    InferenceEngine Engine,
    long MaxMessageBytes,
    RateLimits RateLimits,
    AccessOptions Access,
    ILogger ClientFaults,
    BodyBudget Bodies,
    Unanswered Unanswered,
    NameCache Names,
    LowLatency.Join.FeatureJoiner? Joiner,
    LowLatency.Gateway.ModelGateway Gateway);
