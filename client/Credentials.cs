using Grpc.Core;

namespace LowLatency.Client;

/// <summary>
/// The credential headers every call carries, built once per credential change: <c>X-Api-Key</c>
/// and <c>Authorization: Bearer</c> for HTTP, the same as gRPC metadata. Replaced whole when the
/// bearer token is rotated, so a call in flight sees one consistent set.
/// </summary>
internal sealed class Credentials
{
    public Credentials(string? apiKey, string? bearerToken)
    {
        ApiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        Authorization = string.IsNullOrEmpty(bearerToken) ? null : "Bearer " + bearerToken;
        if (ApiKey is not null || Authorization is not null)
        {
            var metadata = new Metadata();
            Add(metadata);
            GrpcHeaders = metadata;
        }
    }

    public string? ApiKey { get; }

    /// <summary>The whole <c>Authorization</c> header value.</summary>
    public string? Authorization { get; }

    /// <summary>The credentials alone as gRPC metadata (shared by calls that add nothing); null when there are none.</summary>
    public Metadata? GrpcHeaders { get; }

    public void Add(Metadata metadata)
    {
        if (ApiKey is not null)
        {
            metadata.Add("x-api-key", ApiKey);
        }

        if (Authorization is not null)
        {
            metadata.Add("authorization", Authorization);
        }
    }

    public void Add(System.Net.Http.Headers.HttpRequestHeaders headers)
    {
        if (ApiKey is not null)
        {
            headers.TryAddWithoutValidation("X-Api-Key", ApiKey);
        }

        if (Authorization is not null)
        {
            headers.TryAddWithoutValidation("Authorization", Authorization);
        }
    }
}
