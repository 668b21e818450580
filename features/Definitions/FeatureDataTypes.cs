using System.Buffers.Binary;

namespace LowLatency.Features.Definitions;

/// <summary>Names and sizes of <see cref="FeatureDataType"/>, and writing one element from a number.</summary>
public static class FeatureDataTypes
{
    private static readonly string[] Names = ["BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64"];
    private static readonly int[] Sizes = [1, 1, 1, 2, 4, 8, 2, 2, 4, 8];

    /// <summary>Every name, for error messages.</summary>
    public static string AllNames { get; } = string.Join(", ", Names);

    public static int ElementSize(this FeatureDataType type) => Sizes[(int)type];

    /// <summary>The protocol's name: <c>FP32</c>.</summary>
    public static string Name(this FeatureDataType type) => Names[(int)type];

    public static bool TryParse(string name, out FeatureDataType type)
    {
        int i = Array.IndexOf(Names, name);
        type = (FeatureDataType)Math.Max(i, 0);
        return i >= 0;
    }

    /// <summary>
    /// Writes <paramref name="value"/> as one element of <paramref name="type"/> (not BOOL), little-endian;
    /// false when it does not fit: out of range, or a fraction for an integer type.
    /// </summary>
    public static bool TryWrite(double value, FeatureDataType type, Span<byte> dst)
    {
        switch (type)
        {
            case FeatureDataType.FP16:
                BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)value);
                return Half.IsFinite((Half)value) || !double.IsFinite(value);
            case FeatureDataType.BF16:
                float f16 = (float)value;
                BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)(BitConverter.SingleToUInt32Bits(f16) >> 16));
                return float.IsFinite(f16) || !double.IsFinite(value);
            case FeatureDataType.FP32:
                float f = (float)value;
                BinaryPrimitives.WriteSingleLittleEndian(dst, f);
                return float.IsFinite(f) || !double.IsFinite(value);
            case FeatureDataType.FP64:
                BinaryPrimitives.WriteDoubleLittleEndian(dst, value);
                return true;
            case FeatureDataType.Bool:
                return false;
            default:
                // 2^63 is exactly representable as a double; anything at or past it does not fit a long.
                if (value != Math.Floor(value) || value < -9.2233720368547758E18 || value >= 9.2233720368547758E18)
                {
                    return false;
                }

                return TryWrite((long)value, type, dst);
        }
    }

    /// <summary>Writes an integer as one element of <paramref name="type"/> (not BOOL); false when out of range.</summary>
    public static bool TryWrite(long value, FeatureDataType type, Span<byte> dst)
    {
        switch (type)
        {
            case FeatureDataType.UInt8 when value is >= byte.MinValue and <= byte.MaxValue:
                dst[0] = (byte)value;
                return true;
            case FeatureDataType.Int8 when value is >= sbyte.MinValue and <= sbyte.MaxValue:
                dst[0] = (byte)(sbyte)value;
                return true;
            case FeatureDataType.Int16 when value is >= short.MinValue and <= short.MaxValue:
                BinaryPrimitives.WriteInt16LittleEndian(dst, (short)value);
                return true;
            case FeatureDataType.Int32 when value is >= int.MinValue and <= int.MaxValue:
                BinaryPrimitives.WriteInt32LittleEndian(dst, (int)value);
                return true;
            case FeatureDataType.Int64:
                BinaryPrimitives.WriteInt64LittleEndian(dst, value);
                return true;
            case FeatureDataType.FP16 or FeatureDataType.BF16 or FeatureDataType.FP32 or FeatureDataType.FP64:
                return TryWrite((double)value, type, dst);
            default:
                return false;
        }
    }

    /// <summary>Writes a boolean as one BOOL element (1 or 0); false for any other type.</summary>
    public static bool TryWrite(bool value, FeatureDataType type, Span<byte> dst)
    {
        if (type != FeatureDataType.Bool)
        {
            return false;
        }

        dst[0] = value ? (byte)1 : (byte)0;
        return true;
    }

    /// <summary>
    /// One element as the CLR value a JSON or MessagePack writer formats: bool, long for the integer
    /// types, float for FP16, BF16 and FP32 (so 0.1f is written as 0.1, not as its double expansion),
    /// double for FP64.
    /// </summary>
    public static object Read(FeatureDataType type, ReadOnlySpan<byte> src) => type switch
    {
        FeatureDataType.Bool => src[0] != 0,
        FeatureDataType.UInt8 => (long)src[0],
        FeatureDataType.Int8 => (long)(sbyte)src[0],
        FeatureDataType.Int16 => (long)BinaryPrimitives.ReadInt16LittleEndian(src),
        FeatureDataType.Int32 => (long)BinaryPrimitives.ReadInt32LittleEndian(src),
        FeatureDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(src),
        FeatureDataType.FP16 => (float)BinaryPrimitives.ReadHalfLittleEndian(src),
        FeatureDataType.BF16 => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(src) << 16),
        FeatureDataType.FP32 => BinaryPrimitives.ReadSingleLittleEndian(src),
        _ => BinaryPrimitives.ReadDoubleLittleEndian(src),
    };
}
