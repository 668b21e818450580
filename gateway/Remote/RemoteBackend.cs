using System.Buffers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using LowLatency.Client;
using LowLatency.Gateway.Config;

namespace LowLatency.Gateway.Remote;

/// <summary>
/// A remote backend's connection pool: one <see cref="InferenceClient"/> (HTTP, its own
/// <c>SocketsHttpHandler</c> pool capped at <see cref="RemoteEndpoint.MaxConnections"/>), and one
/// over gRPC when the backend has a <c>grpc_url</c>, made when
/// the alias is built and disposed when a reload has replaced it and its requests have ended. A
/// request's body is forwarded as its client encoded it, never decoded here; the client's own
/// credentials are not passed on (they are this server's to check), the backend's configured ones are.
/// </summary>
public sealed class RemoteBackend : IDisposable
{
    private readonly InferenceClient _client;
    private readonly InferenceClient? _grpc;
    private readonly Uri _inferUri;
    private readonly string _model;
    private readonly string? _version;

    public RemoteBackend(BackendDefinition backend)
    {
        var remote = backend.Remote ?? throw new ArgumentException("not a remote backend", nameof(backend));
        Endpoint = remote;
        _client = new InferenceClient(Options(remote, remote.Url, InferenceTransport.Http));
        _inferUri = _client.InferUriOf(backend.Model, backend.VersionText);
        (_model, _version) = (backend.Model, backend.VersionText);
        if (remote.GrpcUrl is { } grpcUrl)
        {
            // One channel: HTTP/2 multiplexes the calls on one connection, more opened past the server's stream limit.
            _grpc = new InferenceClient(Options(remote, grpcUrl, InferenceTransport.Grpc));
        }
    }

    /// <summary>Whether calls that come over gRPC can be forwarded here (the backend has a <c>grpc_url</c>).</summary>
    public bool ServesGrpc => _grpc is not null;

    public RemoteEndpoint Endpoint { get; }

    /// <summary>One attempt: the body (read within <paramref name="lease"/>) to the backend's model, the answer as it comes (any status); unreachable: <see cref="InferenceException"/>; cancelled at the token.</summary>
    public Task<ForwardedAnswer> SendAsync(ReadOnlySequence<byte> body, BodyLease lease, string contentType, string? jsonLength, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken token) =>
        _client.ForwardAsync(_inferUri, body, lease, contentType, jsonLength, headers, token);

    /// <summary>One gRPC attempt: the encoded <c>ModelInferRequest</c> (read within <paramref name="lease"/>) to the backend's model, the answer as it comes (any status); no answer: <see cref="InferenceException"/>.</summary>
    public Task<ForwardedAnswer> SendGrpcAsync(ReadOnlySequence<byte> message, BodyLease lease, IReadOnlyList<KeyValuePair<string, string>> headers, DateTime deadline, CancellationToken token) =>
        (_grpc ?? throw new InvalidOperationException("the backend has no grpc_url")).ForwardGrpcAsync(message, lease, _model, _version, headers, deadline, token);

    public void Dispose()
    {
        _client.Dispose();
        _grpc?.Dispose();
    }

    private static InferenceClientOptions Options(RemoteEndpoint remote, Uri address, InferenceTransport transport) => new()
    {
        Address = address,
        Transport = transport,
        MaxConnectionsPerServer = remote.MaxConnections,
        // A backend that does not accept a connection within its own timeout is out for this attempt.
        ConnectTimeout = TimeSpan.FromMilliseconds(remote.TimeoutMilliseconds),
        Retry = new RetryPolicy { MaxAttempts = 1 },
        ConfigureHandler = remote.Tls is { } tls ? h => Secure(h, tls) : null,
        ApiKey = remote.Credentials?.ApiKey,
        BearerToken = remote.Credentials?.BearerToken,
    };

    /// <summary>
    /// The server's certificate must chain to the configured authorities alone (not the system's
    /// store) and name the host; the client certificate, when configured, is presented.
    /// </summary>
    private static void Secure(SocketsHttpHandler handler, RemoteTls tls)
    {
        if (tls.ClientCertificate is { } cert)
        {
            handler.SslOptions.ClientCertificates = [cert];
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(tls.Authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate as X509Certificate2 ?? new X509Certificate2(certificate));
        };
    }
}
