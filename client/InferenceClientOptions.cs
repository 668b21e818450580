namespace LowLatency.Client;

/// <summary>How an <see cref="InferenceClient"/> connects. Read once, when the client is created.</summary>
public sealed class InferenceClientOptions
{
    /// <summary>The server: <c>http://127.0.0.1:8000</c> for HTTP, <c>http://127.0.0.1:8001</c> for gRPC (https for TLS).</summary>
    public Uri Address { get; set; } = new("http://127.0.0.1:8000");

    /// <summary>HTTP (the default) or gRPC.</summary>
    public InferenceTransport Transport { get; set; } = InferenceTransport.Http;

    /// <summary>The HTTP transport's body encoding: MessagePack (the default) or Triton's JSON with binary tensors.</summary>
    public HttpBodyEncoding HttpEncoding { get; set; } = HttpBodyEncoding.MessagePack;

    /// <summary>
    /// HTTP: the most connections kept to the server. HTTP/1.1 carries one request at a time per
    /// connection, so this caps the calls in flight; unlimited by default (one per concurrent call).
    /// </summary>
    public int MaxConnectionsPerServer { get; set; } = int.MaxValue;

    /// <summary>gRPC: how many channels (each with its own HTTP/2 connection) calls are spread over, in turn. 1 by default.</summary>
    public int GrpcChannelCount { get; set; } = 1;

    /// <summary>gRPC: the largest answer accepted, in bytes (64 MiB by default, the server's own request limit; Grpc.Net.Client's default is 4 MB).</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>An API key, sent as <c>X-Api-Key</c> (gRPC: <c>x-api-key</c>) on every call.</summary>
    public string? ApiKey { get; set; }

    /// <summary>A bearer token (a JWT), sent as <c>Authorization: Bearer</c> on every call; replace it with <see cref="InferenceClient.SetBearerToken"/>.</summary>
    public string? BearerToken { get; set; }

    /// <summary>What is retried, how often, how long apart (<see cref="RetryPolicy.Default"/>: three attempts).</summary>
    public RetryPolicy Retry { get; set; } = RetryPolicy.Default;

    /// <summary>The timeout of an inference whose <see cref="InferOptions"/> set none, and of every metadata and health call (30 s when null there); null: inferences wait as long as the server takes.</summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary>How long establishing a connection may take before it counts as refused (and is retried).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a pooled connection is used before it is replaced (to follow DNS changes); infinite by default.</summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>HTTP: the protocol version requests ask for (HTTP/1.1 by default; HTTP/2 needs a server that offers it, which over cleartext means prior knowledge).</summary>
    public Version HttpVersion { get; set; } = System.Net.HttpVersion.Version11;

    /// <summary>Whether to go through the system's proxy (<c>HTTP_PROXY</c>); off by default: a proxy adds a hop to every call.</summary>
    public bool UseProxy { get; set; }

    /// <summary>
    /// Adjusts the <see cref="SocketsHttpHandler"/> under either transport before it is used: client
    /// certificates for mTLS (<c>SslOptions.ClientCertificates</c>), certificate validation, socket
    /// options.
    /// </summary>
    public Action<SocketsHttpHandler>? ConfigureHandler { get; set; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Address);
        if (!Address.IsAbsoluteUri || (Address.Scheme != Uri.UriSchemeHttp && Address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"the address must be an absolute http or https URI, not '{Address}'", nameof(Address));
        }

        if (Transport is not (InferenceTransport.Http or InferenceTransport.Grpc))
        {
            throw new ArgumentOutOfRangeException(nameof(Transport), Transport, "Http or Grpc");
        }

        if (HttpEncoding is not (HttpBodyEncoding.MessagePack or HttpBodyEncoding.JsonBinary))
        {
            throw new ArgumentOutOfRangeException(nameof(HttpEncoding), HttpEncoding, "MessagePack or JsonBinary");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerServer, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(GrpcChannelCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReceiveMessageBytes, 1);
        ArgumentNullException.ThrowIfNull(Retry);
        ArgumentNullException.ThrowIfNull(HttpVersion);
        Retry.Validate();
        if (DefaultTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultTimeout), timeout, "must be positive");
        }
    }

    internal InferenceClientOptions Copy() => (InferenceClientOptions)MemberwiseClone();
}
