using System.Buffers;
using System.Text.Json;
using LowLatency.Engine.Requests;
using MessagePack;
using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Protocol;

/// <summary>Decodes a request body in its encoding; whatever is wrong with it becomes a 400 naming it (<see cref="BadInput"/>).</summary>
internal static class RequestDecoder
{
    /// <param name="jsonLengthHeader">The Inference-Header-Content-Length header (JSON followed by binary tensors), if any.</param>
    /// <returns>The outputs a JSON request asked for as binary data.</returns>
    public static BinaryOutputs Decode(WireFormat format, ReadOnlySequence<byte> body, InferenceRequest request, StringValues jsonLengthHeader = default)
    {
        try
        {
            if (format == WireFormat.MsgPack)
            {
                if (jsonLengthHeader.Count > 0)
                {
                    BadInput.Throw($"{BinaryTensorData.HeaderName} belongs to JSON bodies (Triton's binary tensor data); a MessagePack body carries its tensors as bytes already");
                }

                MsgPackRequestDecoder.Decode(body, request);
                return default;
            }

            return JsonRequestDecoder.Decode(body, request, BinaryTensorData.JsonLength(jsonLengthHeader, body.Length));
        }
        catch (JsonException e)
        {
            return BadInput.Throw<BinaryOutputs>($"malformed JSON body: {e.Message}");
        }
        // MessagePack's reader throws ArgumentOutOfRangeException, among others, for a bin or str
        // longer than the body (a truncated tensor): the client's mistake, not the server's.
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return BadInput.Throw<BinaryOutputs>($"malformed {(format == WireFormat.MsgPack ? "MessagePack" : "JSON")} body: {e.Message}");
        }
    }
}
