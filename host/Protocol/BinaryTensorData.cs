using System.Globalization;
using LowLatency.Engine.Config;
using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Triton's binary tensor data extension to the JSON encoding: a JSON request or answer may be
/// followed by tensors' raw bytes (little-endian, row-major), each input or output saying how many
/// in <c>parameters.binary_data_size</c>, and the <see cref="HeaderName"/> header giving the JSON's
/// length. Triton's clients (tritonclient, perf_analyzer) send and ask for tensors this way by default.
/// </summary>
internal static class BinaryTensorData
{
    public const string HeaderName = "Inference-Header-Content-Length";

    /// <summary>The media type of a body that carries binary tensors after its JSON.</summary>
    public const string ContentType = "application/octet-stream";

    /// <summary>
    /// The length of the JSON part of a body of <paramref name="bodyLength"/> bytes, from the header;
    /// -1 when there is no header (the whole body is JSON). A header that is not one integer within
    /// the body is bad input, named.
    /// </summary>
    public static long JsonLength(StringValues header, long bodyLength)
    {
        if (header.Count == 0)
        {
            return -1;
        }

        if (header.Count > 1 || !long.TryParse(header[0], NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            return BadInput.Throw<long>($"{HeaderName} must be one non-negative integer (the JSON's length in bytes), got {ClientText.Quoted(header.ToString())}");
        }

        return length <= bodyLength
            ? length
            : BadInput.Throw<long>($"{HeaderName} is {length} but the body has only {bodyLength} bytes");
    }
}
