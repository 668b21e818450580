using System.Buffers;
using System.Text;
using Grpc.Core;
using LowLatency.Client.Wire;

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

    private const int ModelNameField = 1;
    private const int ModelVersionField = 2;

    /// <summary>The message copied into the call's buffer, within its lease: Grpc.Net.Client serializes while HttpClient writes the request, which may be after the call has ended.</summary>
    private static void Serialize(ForwardedMessage m, SerializationContext context)
    {
        m.Lease?.Enter();
        try
        {
            Write(m, context);
        }
        finally
        {
            m.Lease?.Exit();
        }
    }

    private static void Write(ForwardedMessage m, SerializationContext context)
    {
        long length = m.Message.Length + ProtoSize.Field(Encoding.UTF8.GetByteCount(m.Model))
            + (m.Version is null ? 0 : ProtoSize.Field(Encoding.UTF8.GetByteCount(m.Version)));
        context.SetPayloadLength(checked((int)length));
        var output = context.GetBufferWriter();
        foreach (var segment in m.Message)
        {
            output.Write(segment.Span);
        }

        var w = new ProtoWriter(output);
        w.String(ModelNameField, m.Model);
        if (m.Version is not null)
        {
            w.String(ModelVersionField, m.Version);
        }

        w.Flush();
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
}

/// <summary>An encoded <c>ModelInferRequest</c>, who reads it when (null: it outlives the call), and the model (and version) it is to reach.</summary>
internal sealed record ForwardedMessage(ReadOnlySequence<byte> Message, BodyLease? Lease, string Model, string? Version);
