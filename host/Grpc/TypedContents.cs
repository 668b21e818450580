using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Grpc;

/// <summary>
/// An input's typed <c>contents</c> (<c>InferTensorContents</c>), converted into the buffer the request
/// owns, as the JSON decoder converts its numbers: the field of the input's datatype (bool, int,
/// int64, uint, fp32, fp64 contents), packed or not, its count checked against the shape and each
/// value against the datatype's range. FP16 and BF16 have no typed field (raw only, as in Triton);
/// a value in another type's field is refused naming both.
/// </summary>
internal static class TypedContents
{
    private const int BoolContents = 1;
    private const int IntContents = 2;
    private const int Int64Contents = 3;
    private const int UintContents = 4;
    private const int Fp32Contents = 6;
    private const int Fp64Contents = 7;
    private const int BytesContents = 8;
    private const int LastContentsField = 8;

    public static void Read(ReadOnlySequence<byte> contents, InferenceRequest request, int index, TensorDataType type, ReadOnlySpan<long> shape, Where where)
    {
        string name = request.Config.InputSpec(index).Name;
        int expected = FieldOf(type);
        if (expected == 0)
        {
            BadInput.Throw($"input '{name}': {type.ProtocolName()} has no typed contents field; send its bytes in raw_input_contents");
        }

        if (type == TensorDataType.Bytes)
        {
            ReadBytes(contents, request, index, shape, where);
            return;
        }

        long count = 0;
        var r = new ProtoReader(contents, GrpcRequestDecoder.MessageName, where);
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == expected)
            {
                count += Count(ref r, wire, expected);
            }
            else if (field <= LastContentsField)
            {
                BadInput.Throw($"input '{name}': datatype {type.ProtocolName()} takes contents.{FieldName(expected)}, not contents.{FieldName(field)}");
            }
            else
            {
                r.Skip(wire, "contents");
            }
        }

        // The shape is checked against the model first (its errors come first, as in REST), then the count.
        var target = request.AddInput(index, type, shape);
        int size = type.ElementSize();
        if (count != target.Length / size)
        {
            BadInput.Throw($"input '{name}': contents.{FieldName(expected)} has {count} values, shape {InferenceRequest.Format(shape)} needs {target.Length / size}");
        }

        int at = 0;
        r = new ProtoReader(contents, GrpcRequestDecoder.MessageName, where);
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field != expected)
            {
                r.Skip(wire, "contents");
            }
            else if (wire == WireType.Len)
            {
                var packed = r.ReadBytes("contents");
                if (expected is Fp32Contents or Fp64Contents)
                {
                    // Little-endian IEEE 754 on the wire and in the tensor: copied as they are.
                    packed.CopyTo(target[(at * size)..]);
                    at += (int)(packed.Length / size);
                    continue;
                }

                var values = new ProtoReader(packed, GrpcRequestDecoder.MessageName, where);
                while (!values.End)
                {
                    Store(target, at++, type, values.ReadVarint(ContentsName(expected)), name);
                }
            }
            else if (wire == WireType.Fixed32)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(target[(at++ * 4)..], r.ReadFixed32(ContentsName(expected)));
            }
            else if (wire == WireType.Fixed64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(target[(at++ * 8)..], r.ReadFixed64(ContentsName(expected)));
            }
            else
            {
                Store(target, at++, type, r.ReadVarint(ContentsName(expected)), name);
            }
        }
    }

    /// <summary>A BYTES input (entity ids): one <c>bytes_contents</c> entry per element.</summary>
    private static void ReadBytes(ReadOnlySequence<byte> contents, InferenceRequest request, int index, ReadOnlySpan<long> shape, Where where)
    {
        var spec = request.Config.InputSpec(index);
        if (spec.DataType != TensorDataType.Bytes)
        {
            // BYTES where the model takes numbers: the request refuses it, naming the input, before any contents are read.
            request.AddInput(index, TensorDataType.Bytes, shape);
        }

        long count = 0;
        var r = new ProtoReader(contents, GrpcRequestDecoder.MessageName, where);
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == BytesContents)
            {
                r.Expect(wire, WireType.Len, "contents.bytes_contents");
                r.ReadBytes("contents.bytes_contents");
                count++;
            }
            else if (field <= LastContentsField)
            {
                BadInput.Throw($"input '{spec.Name}': datatype BYTES takes contents.bytes_contents, not contents.{FieldName(field)}");
            }
            else
            {
                r.Skip(wire, "contents");
            }
        }

        var target = request.AddInput(index, TensorDataType.Bytes, shape);
        if (count != target.Length / spec.ElementSize)
        {
            BadInput.Throw($"input '{spec.Name}': contents.bytes_contents has {count} values, shape {InferenceRequest.Format(shape)} needs {target.Length / spec.ElementSize}");
        }

        int at = 0;
        r = new ProtoReader(contents, GrpcRequestDecoder.MessageName, where);
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == BytesContents)
            {
                BytesElements.Write(target, at++, r.ReadBytes("contents.bytes_contents"), spec);
            }
            else
            {
                r.Skip(wire, "contents");
            }
        }
    }

    /// <summary>How many values one occurrence of the field holds: one unpacked, or as many as its packed bytes encode.</summary>
    private static long Count(ref ProtoReader r, int wire, int field)
    {
        int fixedSize = field == Fp32Contents ? 4 : field == Fp64Contents ? 8 : 0;
        if (wire != WireType.Len)
        {
            r.Expect(wire, fixedSize == 4 ? WireType.Fixed32 : fixedSize == 8 ? WireType.Fixed64 : WireType.Varint, ContentsName(field));
            r.Skip(wire, ContentsName(field));
            return 1;
        }

        var packed = r.ReadBytes(ContentsName(field));
        if (fixedSize > 0)
        {
            return packed.Length % fixedSize == 0
                ? packed.Length / fixedSize
                : r.Malformed<long>(ContentsName(field), $"{packed.Length} packed bytes are not a whole number of {fixedSize}-byte values");
        }

        // Each varint ends in a byte under 0x80.
        long ends = 0;
        byte last = 0;
        foreach (var segment in packed)
        {
            var span = segment.Span;
            for (int i = 0; i < span.Length; i++)
            {
                ends += span[i] >> 7 ^ 1;
            }

            last = span.Length > 0 ? span[^1] : last;
        }

        return last < 0x80 ? ends : r.Malformed<long>(ContentsName(field), "the packed values end inside a varint");
    }

    private static void Store(Span<byte> target, int at, TensorDataType type, ulong raw, string name)
    {
        switch (type)
        {
            case TensorDataType.Bool:
                target[at] = raw != 0 ? (byte)1 : (byte)0;
                break;
            case TensorDataType.UInt8:
                // uint32 on the wire.
                target[at] = (uint)raw <= byte.MaxValue && raw <= uint.MaxValue ? (byte)raw : OutOfRange<byte>(name, at, raw.ToString(System.Globalization.CultureInfo.InvariantCulture), type);
                break;
            case TensorDataType.Int8:
                target[at] = (byte)(sbyte)Int32(raw, name, at, sbyte.MinValue, sbyte.MaxValue, type);
                break;
            case TensorDataType.Int16:
                BinaryPrimitives.WriteInt16LittleEndian(target[(at * 2)..], (short)Int32(raw, name, at, short.MinValue, short.MaxValue, type));
                break;
            case TensorDataType.Int32:
                BinaryPrimitives.WriteInt32LittleEndian(target[(at * 4)..], (int)raw);
                break;
            default:
                // INT64
                BinaryPrimitives.WriteInt64LittleEndian(target[(at * 8)..], (long)raw);
                break;
        }
    }

    /// <summary>An int32 on the wire (sign-extended to 64 bits when negative), within the datatype's range.</summary>
    private static int Int32(ulong raw, string name, int at, int min, int max, TensorDataType type)
    {
        int value = (int)raw;
        return value >= min && value <= max ? value : OutOfRange<int>(name, at, value.ToString(System.Globalization.CultureInfo.InvariantCulture), type);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T OutOfRange<T>(string name, int at, string value, TensorDataType type) =>
        BadInput.Throw<T>($"input '{name}': element {at} ({value}) is outside {type.ProtocolName()}'s range");

    private static int FieldOf(TensorDataType type) => type switch
    {
        TensorDataType.Bool => BoolContents,
        TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 => IntContents,
        TensorDataType.Int64 => Int64Contents,
        TensorDataType.UInt8 => UintContents,
        TensorDataType.FP32 => Fp32Contents,
        TensorDataType.FP64 => Fp64Contents,
        TensorDataType.Bytes => BytesContents,
        _ => 0,
    };

    private static string ContentsName(int field) => field switch
    {
        BoolContents => "contents.bool_contents",
        IntContents => "contents.int_contents",
        Int64Contents => "contents.int64_contents",
        UintContents => "contents.uint_contents",
        Fp32Contents => "contents.fp32_contents",
        _ => "contents.fp64_contents",
    };

    private static string FieldName(int field) => field switch
    {
        BoolContents => "bool_contents",
        IntContents => "int_contents",
        Int64Contents => "int64_contents",
        UintContents => "uint_contents",
        5 => "uint64_contents",
        Fp32Contents => "fp32_contents",
        Fp64Contents => "fp64_contents",
        _ => "bytes_contents",
    };
}
