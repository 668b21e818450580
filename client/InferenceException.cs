using System.Net;
using Grpc.Core;

namespace LowLatency.Client;

/// <summary>
/// A call the server refused or could not answer, or that could not reach it. <see cref="Status"/>
/// is the same for both transports; <see cref="HttpStatus"/> or <see cref="GrpcStatus"/> is the
/// code the transport gave, <see cref="ServerMessage"/> the server's own words.
/// </summary>
public sealed class InferenceException : Exception
{
    /// <summary>A failure with the given status and message.</summary>
    /// <param name="status">Why the call failed.</param>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The transport's exception, if any.</param>
    public InferenceException(InferenceStatus status, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
    }

    /// <summary>Why the call failed, whichever transport carried it.</summary>
    public InferenceStatus Status { get; }

    /// <summary>The HTTP status the server answered with; null over gRPC, or when no answer came.</summary>
    public HttpStatusCode? HttpStatus { get; init; }

    /// <summary>The gRPC status code; null over HTTP.</summary>
    public StatusCode? GrpcStatus { get; init; }

    /// <summary>The server's error message (<c>{"error": "..."}</c>, or the gRPC status detail); null when the server said nothing.</summary>
    public string? ServerMessage { get; init; }

    /// <summary>How long the server asked the client to wait before trying again (<c>Retry-After</c>), when it did.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// True when the request is known not to have run: the connection was refused, or the server
    /// refused it before it reached a model (503, 429; UNAVAILABLE, RESOURCE_EXHAUSTED). These are the
    /// failures <see cref="RetryPolicy"/> retries.
    /// </summary>
    public bool IsSafeToRetry { get; init; }

    /// <summary>How many attempts the call made before giving up.</summary>
    public int Attempts { get; internal set; } = 1;
}
