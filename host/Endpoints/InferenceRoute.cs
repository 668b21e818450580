namespace LowLatency.Host.Endpoints;

/// <summary>
/// The inference URLs matched by hand, ahead of endpoint routing: <c>POST /v2/models/{name}/infer</c>
/// and <c>POST /v2/models/{name}/versions/{version}/infer</c>, exactly as written (any other form —
/// another case, a trailing slash, another method — goes on to the routes, which answer it as
/// before). Endpoint routing costs every request a route-value dictionary, its array, the name cut
/// from the path and the endpoint's closure; this costs a few span compares
/// (docs/performance.md#host-request-path).
/// </summary>
internal static class InferenceRoute
{
    public const string ModelPattern = "/v2/models/{name}/infer";
    public const string VersionPattern = "/v2/models/{name}/versions/{version}/infer";

    private const string Prefix = "/v2/models/";
    private const string Infer = "/infer";
    private const string Versions = "/versions/";

    /// <summary>Splits an inference path into its model name and version text (empty: none); false when it is not one.</summary>
    public static bool TryMatch(ReadOnlySpan<char> path, out ReadOnlySpan<char> name, out ReadOnlySpan<char> version)
    {
        name = version = default;
        if (path.Length <= Prefix.Length + Infer.Length || !path.StartsWith(Prefix, StringComparison.Ordinal) || !path.EndsWith(Infer, StringComparison.Ordinal))
        {
            return false;
        }

        var middle = path[Prefix.Length..^Infer.Length];
        int slash = middle.IndexOf('/');
        if (slash < 0)
        {
            name = middle;
            return !name.IsEmpty;
        }

        name = middle[..slash];
        var rest = middle[slash..];
        if (name.IsEmpty || !rest.StartsWith(Versions, StringComparison.Ordinal))
        {
            return false;
        }

        version = rest[Versions.Length..];
        return !version.IsEmpty && !version.Contains('/');
    }

    /// <summary>The two routes' endpoints, found among the server's once (they are built on first use).</summary>
    internal sealed class Endpoints(IServiceProvider services)
    {
        private Endpoint? _model;
        private Endpoint? _version;

        public Endpoint Model => _model ??= Find(services.GetRequiredService<EndpointDataSource>(), ModelPattern);

        public Endpoint Version => _version ??= Find(services.GetRequiredService<EndpointDataSource>(), VersionPattern);

        /// <summary>The route endpoint registered with <paramref name="pattern"/> (gRPC's ModelInfer, matched ahead of routing too, finds its own here).</summary>
        internal static Endpoint Find(EndpointDataSource source, string pattern)
        {
            foreach (var endpoint in source.Endpoints)
            {
                if (endpoint is RouteEndpoint route && route.RoutePattern.RawText == pattern)
                {
                    return endpoint;
                }
            }

            throw new InvalidOperationException($"no endpoint for {pattern}");
        }
    }
}
