namespace LowLatency.Gateway.Config;

/// <summary>
/// Where a remote backend is: an Open Inference Protocol server's base address (HTTP), how long one
/// attempt may take (within the request's deadline), how many connections the pool keeps to it,
/// whether its inference may be retried on another backend (false for a stateful model), mTLS, and
/// the credentials it is called with; <see cref="GrpcUrl"/>, the same server's gRPC address, which
/// calls that come over gRPC are forwarded to (without it they pass the backend over).
/// </summary>
public sealed record RemoteEndpoint(Uri Url, double TimeoutMilliseconds, int MaxConnections, bool Idempotent, RemoteTls? Tls, RemoteCredentials? Credentials = null, Uri? GrpcUrl = null);
