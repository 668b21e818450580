using System.Globalization;

namespace LowLatency.Client;

/// <summary>
/// A bfloat16 value (the protocol's <c>BF16</c>): the upper 16 bits of an IEEE 754 single, stored as
/// those bits, so that a span of it is the tensor's wire bytes. Conversions round to nearest even.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>Wraps the raw bits.</summary>
    /// <param name="bits">The upper 16 bits of the single-precision value.</param>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw bits: the upper half of the equivalent <see cref="float"/>.</summary>
    public ushort Bits { get; }

    /// <summary>Rounds a single to the nearest bfloat16 (ties to even); NaN stays NaN.</summary>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Keep it a NaN: truncation could clear every mantissa bit left and make an infinity.
            return new BFloat16((ushort)((bits >> 16) | 0x0040));
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    /// <summary>The exact single-precision value.</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <summary>Compares bits.</summary>
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Bits == right.Bits;

    /// <summary>Compares bits.</summary>
    public static bool operator !=(BFloat16 left, BFloat16 right) => left.Bits != right.Bits;

    /// <summary>The value as a single, for arithmetic.</summary>
    public float ToSingle() => (float)this;

    /// <summary>Compares bits.</summary>
    public bool Equals(BFloat16 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
}
