namespace LowLatency.Host.Protocol;

/// <summary>bfloat16 conversions for the JSON encoding (MessagePack carries the raw bytes).</summary>
internal static class BFloat16
{
    /// <summary>Round to nearest even, as PyTorch does; NaN stays NaN.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float ToSingle(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Neither an infinity nor NaN: the exponent's bits are not all set.</summary>
    public static bool IsFinite(ushort value) => (value & 0x7F80) != 0x7F80;
}
