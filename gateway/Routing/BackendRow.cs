using LowLatency.Gateway.Weights;

namespace LowLatency.Gateway.Routing;

/// <summary>One backend's line in an alias's weight table (admin route, metrics): a copy, read off the request path.</summary>
public sealed record BackendRow(
    string Name,
    string Model,
    long? Version,
    BackendState State,
    int BaseWeight,
    double Weight,
    double Share,
    double LatencyUs,
    double ErrorRate,
    long Answers,
    long Errors,
    Uri? Url = null);
