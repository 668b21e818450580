using System.Buffers;
using System.Text;
using Grpc.Core;

namespace LowLatency.Client.Grpc;

/// <summary>
/// <c>ModelInfer</c> with an already encoded <c>ModelInferRequest</c>: its bytes sent as they are, with
/// the target's <c>model_name</c> (and <c>model_version</c>) appended, which Protocol Buffers lets win
/// over the ones inside (a scalar field seen twice: the last counts); the answer's message kept as
/// bytes in a pooled buffer. What a gateway does with its client's call: nothing decoded or re-encoded.
/// </summary>
internal static class ForwardMethod
{
    public static readonly Method<ForwardedMessage, ForwardedAnswer> ModelInfer = new(
        MethodType.Unary,
        "inference.GRPCInferenceService",
        "ModelInfer",
        new Marshaller<ForwardedMessage>(Serialize, _ => throw new NotSupportedException("a client never reads requests")),
        new Marshaller<ForwardedAnswer>((_, _) => throw new NotSupportedException("a client never writes answers"), Deserialize));

    private const byte ModelNameTag = (1 << 3) | 2;
    private const byte ModelVersionTag = (2 << 3) | 2;

    private static void Serialize(ForwardedMessage m, SerializationContext context)
    {
        int model = Encoding.UTF8.GetByteCount(m.Model);
        int version = m.Version is null ? 0 : Encoding.UTF8.GetByteCount(m.Version);
        long length = m.Message.Length + Field(model) + (m.Version is null ? 0 : Field(version));
        context.SetPayloadLength(checked((int)length));
        var output = context.GetBufferWriter();
        foreach (var segment in m.Message)
        {
            output.Write(segment.Span);
        }

        Write(output, ModelNameTag, m.Model, model);
        if (m.Version is not null)
        {
            Write(output, ModelVersionTag, m.Version, version);
        }

        context.Complete();
    }

    private static ForwardedAnswer Deserialize(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        int length = checked((int)payload.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        payload.CopyTo(buffer);
        return new ForwardedAnswer(200, "application/grpc", null, null, buffer, length);
    }

    private static int Field(int bytes) => 1 + VarintSize((uint)bytes) + bytes;

    private static int VarintSize(uint value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    private static void Write(IBufferWriter<byte> output, byte tag, string text, int bytes)
    {
        var span = output.GetSpan(1 + 5 + bytes);
        int at = 0;
        span[at++] = tag;
        uint value = (uint)bytes;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[at++] = (byte)value;
        at += Encoding.UTF8.GetBytes(text, span[at..]);
        output.Advance(at);
    }
}

/// <summary>An encoded <c>ModelInferRequest</c> and the model (and version) it is to reach.</summary>
internal sealed record ForwardedMessage(ReadOnlySequence<byte> Message, string Model, string? Version);
