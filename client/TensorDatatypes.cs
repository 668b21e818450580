using System.Runtime.CompilerServices;

namespace LowLatency.Client;

/// <summary>Wire names, element sizes and the CLR type of each <see cref="TensorDatatype"/>.</summary>
internal static class TensorDatatypes
{
    public static int ElementSize(TensorDatatype type) => type switch
    {
        TensorDatatype.Bool or TensorDatatype.UInt8 or TensorDatatype.Int8 => 1,
        TensorDatatype.Int16 or TensorDatatype.UInt16 or TensorDatatype.FP16 or TensorDatatype.BF16 => 2,
        TensorDatatype.Int32 or TensorDatatype.UInt32 or TensorDatatype.FP32 => 4,
        TensorDatatype.Int64 or TensorDatatype.UInt64 or TensorDatatype.FP64 => 8,
        _ => 0,
    };

    public static bool IsDefined(TensorDatatype type) => ElementSize(type) != 0 || type == TensorDatatype.Bytes;

    /// <summary>
    /// The elements of a BYTES tensor's serialization (each a 4-byte little-endian length, then its
    /// bytes); -1 when the bytes are not such a sequence.
    /// </summary>
    public static long SerializedElements(ReadOnlySpan<byte> data)
    {
        long n = 0;
        while (!data.IsEmpty)
        {
            if (data.Length < sizeof(uint))
            {
                return -1;
            }

            uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (length > (uint)(data.Length - sizeof(uint)))
            {
                return -1;
            }

            data = data[(sizeof(uint) + (int)length)..];
            n++;
        }

        return n;
    }

    public static ReadOnlySpan<byte> Utf8Name(TensorDatatype type) => type switch
    {
        TensorDatatype.Bool => "BOOL"u8,
        TensorDatatype.UInt8 => "UINT8"u8,
        TensorDatatype.Int8 => "INT8"u8,
        TensorDatatype.Int16 => "INT16"u8,
        TensorDatatype.Int32 => "INT32"u8,
        TensorDatatype.Int64 => "INT64"u8,
        TensorDatatype.FP16 => "FP16"u8,
        TensorDatatype.BF16 => "BF16"u8,
        TensorDatatype.FP32 => "FP32"u8,
        TensorDatatype.FP64 => "FP64"u8,
        TensorDatatype.UInt16 => "UINT16"u8,
        TensorDatatype.UInt32 => "UINT32"u8,
        TensorDatatype.UInt64 => "UINT64"u8,
        TensorDatatype.Bytes => "BYTES"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a tensor datatype"),
    };

    public static string Name(TensorDatatype type) => System.Text.Encoding.ASCII.GetString(Utf8Name(type));

    public static bool TryParse(ReadOnlySpan<byte> utf8, out TensorDatatype type)
    {
        for (var t = TensorDatatype.Bool; t <= TensorDatatype.Bytes; t++)
        {
            if (utf8.SequenceEqual(Utf8Name(t)))
            {
                type = t;
                return true;
            }
        }

        type = default;
        return false;
    }

    /// <summary>The datatype whose elements are <typeparamref name="T"/>; 0 where none is. Folds to a constant per T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TensorDatatype Of<T>()
        where T : unmanaged =>
        typeof(T) == typeof(bool) ? TensorDatatype.Bool
        : typeof(T) == typeof(byte) ? TensorDatatype.UInt8
        : typeof(T) == typeof(sbyte) ? TensorDatatype.Int8
        : typeof(T) == typeof(short) ? TensorDatatype.Int16
        : typeof(T) == typeof(int) ? TensorDatatype.Int32
        : typeof(T) == typeof(long) ? TensorDatatype.Int64
        : typeof(T) == typeof(Half) ? TensorDatatype.FP16
        : typeof(T) == typeof(BFloat16) ? TensorDatatype.BF16
        : typeof(T) == typeof(float) ? TensorDatatype.FP32
        : typeof(T) == typeof(double) ? TensorDatatype.FP64
        : typeof(T) == typeof(ushort) ? TensorDatatype.UInt16
        : typeof(T) == typeof(uint) ? TensorDatatype.UInt32
        : typeof(T) == typeof(ulong) ? TensorDatatype.UInt64
        : 0;
}
