using TorchSharp;

namespace LowLatency.Engine.Config;

public static class TensorDataTypes
{
    private static readonly string[] ProtocolNames = ["BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64", "BYTES"];
    private static readonly byte[][] ProtocolNamesUtf8 = Array.ConvertAll(ProtocolNames, System.Text.Encoding.ASCII.GetBytes);
    // BYTES has no size of its own: its elements' stride is the tensor's (TensorConfig.ElementSize).
    private static readonly int[] Sizes = [1, 1, 1, 2, 4, 8, 2, 2, 4, 8, 0];

    public static int ElementSize(this TensorDataType t) => Sizes[(int)t];

    /// <summary>Writes a JSON number as one element of <paramref name="type"/> (not BOOL); false when it does not fit.</summary>
    public static bool TryWriteNumber(System.Text.Json.JsonElement e, TensorDataType type, Span<byte> dst)
    {
        switch (type)
        {
            case TensorDataType.UInt8 when e.TryGetByte(out var u8):
                dst[0] = u8;
                return true;
            case TensorDataType.Int8 when e.TryGetSByte(out var i8):
                dst[0] = (byte)i8;
                return true;
            case TensorDataType.Int16 when e.TryGetInt16(out var i16):
                System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(dst, i16);
                return true;
            case TensorDataType.Int32 when e.TryGetInt32(out var i32):
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(dst, i32);
                return true;
            case TensorDataType.Int64 when e.TryGetInt64(out var i64):
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(dst, i64);
                return true;
            case TensorDataType.FP16 when e.TryGetDouble(out var h):
                System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)h);
                return true;
            case TensorDataType.BF16 when e.TryGetSingle(out var b):
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)(BitConverter.SingleToUInt32Bits(b) >> 16));
                return true;
            case TensorDataType.FP32 when e.TryGetSingle(out var f):
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(dst, f);
                return true;
            case TensorDataType.FP64 when e.TryGetDouble(out var d):
                System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(dst, d);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The protocol's name: <c>FP32</c>.</summary>
    public static string ProtocolName(this TensorDataType t) => ProtocolNames[(int)t];

    /// <summary>Triton's model-configuration name: <c>TYPE_FP32</c>.</summary>
    public static string ConfigName(this TensorDataType t) => "TYPE_" + ProtocolNames[(int)t];

    public static ReadOnlySpan<byte> ProtocolNameUtf8(this TensorDataType t) => ProtocolNamesUtf8[(int)t];

    public static bool TryParseProtocol(ReadOnlySpan<byte> utf8, out TensorDataType type)
    {
        for (int i = 0; i < ProtocolNamesUtf8.Length; i++)
        {
            if (utf8.SequenceEqual(ProtocolNamesUtf8[i]))
            {
                type = (TensorDataType)i;
                return true;
            }
        }

        type = default;
        return false;
    }

    public static bool TryParseProtocol(string name, out TensorDataType type)
    {
        int i = Array.IndexOf(ProtocolNames, name);
        type = (TensorDataType)Math.Max(i, 0);
        return i >= 0;
    }

    /// <summary>A model tensor's type: a numeric one (BYTES, and Triton's TYPE_STRING, are no model's: see <see cref="TensorDataType.Bytes"/>).</summary>
    public static bool TryParseConfig(string name, out TensorDataType type)
    {
        type = default;
        return name.StartsWith("TYPE_", StringComparison.Ordinal) && TryParseProtocol(name[5..], out type) && type != TensorDataType.Bytes;
    }

    public static torch.ScalarType ToTorch(this TensorDataType t) => t switch
    {
        TensorDataType.Bool => torch.ScalarType.Bool,
        TensorDataType.UInt8 => torch.ScalarType.Byte,
        TensorDataType.Int8 => torch.ScalarType.Int8,
        TensorDataType.Int16 => torch.ScalarType.Int16,
        TensorDataType.Int32 => torch.ScalarType.Int32,
        TensorDataType.Int64 => torch.ScalarType.Int64,
        TensorDataType.FP16 => torch.ScalarType.Float16,
        TensorDataType.BF16 => torch.ScalarType.BFloat16,
        TensorDataType.FP32 => torch.ScalarType.Float32,
        TensorDataType.FP64 => torch.ScalarType.Float64,
        _ => throw new InvalidOperationException($"{t.ProtocolName()} has no libtorch type: no model tensor is {t.ProtocolName()}"),
    };
}
