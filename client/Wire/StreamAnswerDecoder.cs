using System.Buffers;
using System.Text;
using Grpc.Core;

namespace LowLatency.Client.Wire;

/// <summary>
/// <c>ModelStreamInferResponse</c>: <c>error_message</c> (1) and <c>infer_response</c> (2). An answer's
/// <c>ModelInferResponse</c> is copied into a pooled buffer and read as a unary answer is; an error
/// keeps the model and id its <c>infer_response</c> names.
/// </summary>
internal static class StreamAnswerDecoder
{
    private const int ErrorMessage = 1;
    private const int InferResponse = 2;

    public static StreamAnswer Deserialize(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        byte[] message = payload.ToArray();
        string? error = null;
        Slice inner = Slice.None;
        var r = new ProtoReader(message);
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (wire != ProtoWriter.LengthDelimited || field is not (ErrorMessage or InferResponse))
            {
                r.Skip(wire);
                continue;
            }

            var slice = r.ReadLengthDelimited();
            if (field == ErrorMessage)
            {
                error = Encoding.UTF8.GetString(message, slice.Offset, slice.Length);
            }
            else
            {
                inner = slice;
            }
        }

        var body = ArrayPool<byte>.Shared.Rent(Math.Max(1, inner.Length));
        if (inner.Length > 0)
        {
            message.AsSpan(inner.Offset, inner.Length).CopyTo(body);
        }

        var result = new InferResult(body);
        if (error is not null)
        {
            // The server names the request that failed in infer_response: read its model and id only.
            using (result)
            {
                ReadNames(result, Math.Max(0, inner.Length));
                return new StreamAnswer(null, new InferenceException(InferenceStatus.Unknown, $"model '{result.ModelName}': {error}") { ServerMessage = error }, result.ModelName, result.Id);
            }
        }

        try
        {
            GrpcResponseDecoder.Decode(result, Math.Max(0, inner.Length));
            return new StreamAnswer(result, null, result.ModelName, result.Id);
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static void ReadNames(InferResult result, int length)
    {
        var r = new ProtoReader(result.Body.AsSpan(0, length));
        while (!r.End)
        {
            var (field, wire) = r.ReadTag();
            if (wire == ProtoWriter.LengthDelimited && field is 1 or 3)
            {
                var slice = r.ReadLengthDelimited();
                if (field == 1)
                {
                    result.ModelNameSlice = slice;
                }
                else
                {
                    result.IdSlice = slice;
                }
            }
            else
            {
                r.Skip(wire);
            }
        }
    }
}
