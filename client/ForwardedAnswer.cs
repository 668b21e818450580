using System.Buffers;

namespace LowLatency.Client;

/// <summary>
/// A server's answer to a forwarded body (<see cref="InferenceClient.ForwardAsync"/>) or gRPC message
/// (<see cref="InferenceClient.ForwardGrpcAsync"/>), as it came: its status, encoding and bytes, not
/// decoded. Dispose it to return its buffer to the pool.
/// </summary>
public sealed class ForwardedAnswer : IDisposable
{
    private byte[]? _buffer;

    internal ForwardedAnswer(int statusCode, string? contentType, string? jsonLength, string? retryAfter, byte[] buffer, int length)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        JsonLength = jsonLength;
        RetryAfter = retryAfter;
        _buffer = buffer;
        Length = length;
    }

    /// <summary>The HTTP status the server answered with; over gRPC, the HTTP status of the call's gRPC status (UNAVAILABLE 503, INVALID_ARGUMENT 400, ...).</summary>
    public int StatusCode { get; }

    /// <summary>Over gRPC: the call's status code as the server sent it (0: OK); null over HTTP.</summary>
    public int? GrpcStatus { get; init; }

    /// <summary>Over gRPC: the status message (grpc-message) when the call did not end OK.</summary>
    public string? GrpcMessage { get; init; }

    /// <summary>The answer's Content-Type as the server sent it (null: none).</summary>
    public string? ContentType { get; }

    /// <summary>The answer's <c>Inference-Header-Content-Length</c> (JSON with binary tensors), as sent; null: none.</summary>
    public string? JsonLength { get; }

    /// <summary>The answer's <c>Retry-After</c>, as sent; null: none.</summary>
    public string? RetryAfter { get; }

    /// <summary>The body's length in bytes.</summary>
    public int Length { get; }

    /// <summary>The body, valid until the answer is disposed.</summary>
    public ReadOnlyMemory<byte> Body => _buffer is { } b ? b.AsMemory(0, Length) : throw new ObjectDisposedException(nameof(ForwardedAnswer));

    /// <summary>Returns the body's buffer to the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}
