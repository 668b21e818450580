using System.Buffers;
using System.Net;

namespace LowLatency.Client.Http;

/// <summary>A body already encoded by someone else (a gateway forwarding its client's request): its segments written as they are, never copied into one buffer.</summary>
internal sealed class SequenceContent : HttpContent
{
    private readonly ReadOnlySequence<byte> _body;

    public SequenceContent(ReadOnlySequence<byte> body, string contentType, string? jsonLength)
    {
        _body = body;
        Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (jsonLength is not null)
        {
            Headers.TryAddWithoutValidation(HttpTransport.JsonLengthHeader, jsonLength);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        foreach (var segment in _body)
        {
            await stream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        foreach (var segment in _body)
        {
            stream.Write(segment.Span);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }
}
