using System.Net;
using System.Net.Http.Headers;

namespace LowLatency.Client.Http;

/// <summary>One attempt's view of an <see cref="EncodedBody"/>: writes its bytes, holding a reference while it does.</summary>
internal sealed class BodyContent : HttpContent
{
    private readonly EncodedBody _body;

    public BodyContent(EncodedBody body, MediaTypeHeaderValue contentType)
    {
        _body = body;
        // A typed value, shared by every request and never changed: written as it is, where a raw
        // string would be parsed on every request before it is written.
        Headers.ContentType = contentType;
        if (body.JsonLengthText is not null)
        {
            Headers.TryAddWithoutValidation(HttpTransport.JsonLengthHeader, body.JsonLengthText);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (!_body.TryAcquire())
        {
            throw new ObjectDisposedException(nameof(EncodedBody), "the call is over");
        }

        try
        {
            await stream.WriteAsync(_body.Memory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _body.Release();
        }
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (!_body.TryAcquire())
        {
            throw new ObjectDisposedException(nameof(EncodedBody), "the call is over");
        }

        try
        {
            stream.Write(_body.Memory.Span);
        }
        finally
        {
            _body.Release();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }
}
