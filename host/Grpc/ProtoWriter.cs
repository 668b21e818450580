using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Protocol Buffers' wire format written straight into a response's <see cref="IBufferWriter{T}"/>
/// (Kestrel's pipe), and the sizes to write first (a length-delimited field's length precedes it).
/// </summary>
internal static class ProtoWriter
{
    /// <summary>The bytes of a varint.</summary>
    public static int VarintSize(ulong value) => (BitOperations.Log2(value | 1) / 7) + 1;

    /// <summary>A tag and the length-delimited field's length prefix, for a field of <paramref name="length"/> bytes.</summary>
    public static long LenFieldSize(int field, long length) => VarintSize((ulong)(field << 3)) + VarintSize((ulong)length) + length;

    public static long StringFieldSize(int field, string value) => LenFieldSize(field, Encoding.UTF8.GetByteCount(value));

    public static void WriteVarint(IBufferWriter<byte> w, ulong value)
    {
        var span = w.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        w.Advance(n);
    }

    /// <summary>A length-delimited field's tag and length; its <paramref name="length"/> bytes follow.</summary>
    public static void WriteLenHeader(IBufferWriter<byte> w, int field, long length)
    {
        WriteVarint(w, (ulong)((field << 3) | WireType.Len));
        WriteVarint(w, (ulong)length);
    }

    public static void WriteBytes(IBufferWriter<byte> w, int field, ReadOnlySpan<byte> value)
    {
        WriteLenHeader(w, field, value.Length);
        w.Write(value);
    }

    public static void WriteString(IBufferWriter<byte> w, int field, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteLenHeader(w, field, length);
        if (length > 0)
        {
            int written = Encoding.UTF8.GetBytes(value, w.GetSpan(length));
            w.Advance(written);
        }
    }

    /// <summary>gRPC's message prefix: not compressed, then the length, big-endian.</summary>
    public static void WriteMessagePrefix(IBufferWriter<byte> w, long length)
    {
        var span = w.GetSpan(5);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], checked((uint)length));
        w.Advance(5);
    }
}
