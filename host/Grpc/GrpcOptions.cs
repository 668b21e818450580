namespace LowLatency.Host.Grpc;

/// <summary>The gRPC listener's settings, bound from <c>LowLatency:Grpc</c> (<c>--grpc-urls</c>).</summary>
internal sealed class GrpcOptions
{
    /// <summary>Triton's gRPC port, on loopback.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8001";

    /// <summary>
    /// Where gRPC is served, as <c>--urls</c> takes them (';'-separated, http:// for HTTP/2 cleartext,
    /// https:// with the TLS settings); empty: no gRPC listener.
    /// </summary>
    public string Urls { get; set; } = DefaultUrl;

    public bool Enabled => !string.IsNullOrWhiteSpace(Urls);

    public string[] UrlList => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
