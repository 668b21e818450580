using System.Buffers;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Grpc;

/// <summary>
/// A request's <c>parameters</c> map entries (<c>map&lt;string, InferParameter&gt;</c>): the ones the
/// scheduler reads, as the REST decoders read them: Triton's <c>priority</c> (int64 or uint64, as
/// tritonclient sends it) and <c>timeout</c> (µs), and this server's <c>qos</c> (a string). Others
/// (<c>sequence_id</c>, <c>binary_data_output</c>, …) are skipped, as KServe allows.
/// </summary>
internal static class GrpcParameters
{
    private enum Kind
    {
        None,
        Integer,
        String,
        Other,
    }

    /// <summary>One map entry: key (1), value (2, an <c>InferParameter</c>).</summary>
    public static void Read(ReadOnlySequence<byte> entry, InferenceRequest request)
    {
        var r = new ProtoReader(entry, GrpcRequestDecoder.MessageName);
        Span<byte> key = stackalloc byte[16];
        int keyLength = -1;
        ReadOnlySequence<byte> value = default;
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == 1)
            {
                r.Expect(wire, WireType.Len, "parameters.key");
                var k = r.ReadBytes("parameters.key");
                // A longer key is none the scheduler reads.
                keyLength = k.Length <= key.Length ? (int)k.Length : -1;
                if (keyLength >= 0)
                {
                    k.CopyTo(key);
                }
            }
            else if (field == 2)
            {
                r.Expect(wire, WireType.Len, "parameters.value");
                value = r.ReadBytes("parameters.value");
            }
            else
            {
                r.Skip(wire, "parameters");
            }
        }

        if (keyLength < 0)
        {
            return;
        }

        var name = key[..keyLength];
        if (name.SequenceEqual("priority"u8))
        {
            request.Priority = Value(value, out long p, out _) == Kind.Integer && p is >= 0 and <= int.MaxValue
                ? (int)p
                : BadInput.Throw<int>("parameters.priority must be a non-negative integer");
        }
        else if (name.SequenceEqual("timeout"u8))
        {
            request.TimeoutMicroseconds = Value(value, out long t, out _) == Kind.Integer && t >= 0
                ? t
                : BadInput.Throw<long>("parameters.timeout must be a non-negative integer (microseconds)");
        }
        else if (name.SequenceEqual("qos"u8))
        {
            if (Value(value, out _, out var text) != Kind.String)
            {
                BadInput.Throw("parameters.qos must be a string: realtime, balanced or throughput");
            }

            Span<byte> scratch = stackalloc byte[32];
            request.Qos = text.Length <= scratch.Length
                ? RequestFields.Qos(Copy(text, scratch))
                : RequestFields.Qos(text.Slice(0, scratch.Length).ToArray());
        }
    }

    private static ReadOnlySpan<byte> Copy(ReadOnlySequence<byte> text, Span<byte> scratch)
    {
        text.CopyTo(scratch);
        return scratch[..(int)text.Length];
    }

    /// <summary>Which of <c>InferParameter</c>'s oneof the value holds (the last one sent wins, as Protocol Buffers has it).</summary>
    private static Kind Value(ReadOnlySequence<byte> value, out long integer, out ReadOnlySequence<byte> text)
    {
        (integer, text) = (0, default);
        var kind = Kind.None;
        var r = new ProtoReader(value, GrpcRequestDecoder.MessageName);
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 2:
                    // int64_param
                    r.Expect(wire, WireType.Varint, "parameters.value.int64_param");
                    integer = (long)r.ReadVarint("parameters.value.int64_param");
                    kind = Kind.Integer;
                    break;
                case 5:
                    // uint64_param: past int64's range is no priority or timeout either.
                    r.Expect(wire, WireType.Varint, "parameters.value.uint64_param");
                    ulong u = r.ReadVarint("parameters.value.uint64_param");
                    integer = u > long.MaxValue ? -1 : (long)u;
                    kind = Kind.Integer;
                    break;
                case 3:
                    r.Expect(wire, WireType.Len, "parameters.value.string_param");
                    text = r.ReadBytes("parameters.value.string_param");
                    kind = Kind.String;
                    break;
                default:
                    // bool_param (1), double_param (4), unknown fields.
                    r.Skip(wire, "parameters.value");
                    kind = field is 1 or 4 ? Kind.Other : kind;
                    break;
            }
        }

        return kind;
    }
}
