using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace LowLatency.LoadGen;

/// <summary>
/// A request body as sent: its bytes, its Content-Type, and for the binary encoding (Triton's binary
/// tensor data: JSON, then the tensors' bytes) the JSON's length, sent as Inference-Header-Content-Length.
/// </summary>
internal sealed record RequestBody(byte[] Bytes, string ContentType, int JsonLength)
{
    public const string JsonLengthHeader = "Inference-Header-Content-Length";

    public HttpContent Content()
    {
        var content = new ByteArrayContent(Bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        if (JsonLength >= 0)
        {
            content.Headers.TryAddWithoutValidation(JsonLengthHeader, JsonLength.ToString(CultureInfo.InvariantCulture));
        }

        return content;
    }
}
