using System.Buffers;
using System.Net;

namespace LowLatency.Client.Http;

/// <summary>
/// A body already encoded by someone else (a gateway forwarding its client's request): its segments
/// written as they are, never copied into one buffer, each write within the body's <see cref="BodyLease"/>
/// (HttpClient may still be writing it after the call has returned).
/// </summary>
internal sealed class SequenceContent : HttpContent
{
    private readonly ReadOnlySequence<byte> _body;
    private readonly BodyLease? _lease;

    // Taken while the body is certainly held: HttpClient asks for it when it writes the headers, which
    // a retry on a fresh connection may do after the owner took the body back.
    private readonly long _length;

    /// <summary>A content of <paramref name="body"/>, read within <paramref name="lease"/> (null: the body outlives every write).</summary>
    public SequenceContent(ReadOnlySequence<byte> body, BodyLease? lease, string contentType, string? jsonLength)
    {
        _body = body;
        _lease = lease;
        _length = body.Length;
        Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (jsonLength is not null)
        {
            Headers.TryAddWithoutValidation(HttpTransport.JsonLengthHeader, jsonLength);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _lease?.Enter();
        try
        {
            foreach (var segment in _body)
            {
                await stream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _lease?.Exit();
        }
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _lease?.Enter();
        try
        {
            foreach (var segment in _body)
            {
                stream.Write(segment.Span);
            }
        }
        finally
        {
            _lease?.Exit();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
