namespace LowLatency.Client.Wire;

/// <summary>Sizes of protobuf's encodings, for the length prefixes a message's fields need before they are written.</summary>
internal static class ProtoSize
{
    public static int Varint(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    /// <summary>A length-delimited field of a field number under 16 (one tag byte): tag, length, payload.</summary>
    public static int Field(int payload) => 1 + Varint((ulong)payload) + payload;

    /// <summary>A varint field of a field number under 16.</summary>
    public static int VarintField(ulong value) => 1 + Varint(value);
}
