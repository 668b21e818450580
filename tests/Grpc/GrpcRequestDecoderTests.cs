using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Inference;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Grpc;
using LowLatency.Tests.Infrastructure;
using ModelConfig = LowLatency.Engine.Config.ModelConfig;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// The hand-written ModelInferRequest decoder against messages Google.Protobuf writes (and some
/// written field by field): every datatype in raw and typed form, fields in any order, packed and
/// unpacked repeated scalars, unknown fields, buffers split anywhere; and every truncated or
/// malformed message refused as bad input naming the field, never another exception.
/// </summary>
public sealed class GrpcRequestDecoderTests
{
    // No batch dimension, one input per datatype the protocol has.
    private static readonly ModelConfig Types = ModelConfigReader.Parse(
        """
        {
          "name": "types", "platform": "pytorch_libtorch", "max_batch_size": 0,
          "input": [
            { "name": "b", "data_type": "TYPE_BOOL", "dims": [3] },
            { "name": "u8", "data_type": "TYPE_UINT8", "dims": [2] },
            { "name": "i8", "data_type": "TYPE_INT8", "dims": [2] },
            { "name": "i16", "data_type": "TYPE_INT16", "dims": [2] },
            { "name": "i32", "data_type": "TYPE_INT32", "dims": [2] },
            { "name": "i64", "data_type": "TYPE_INT64", "dims": [2] },
            { "name": "h", "data_type": "TYPE_FP16", "dims": [2] },
            { "name": "bf", "data_type": "TYPE_BF16", "dims": [2] },
            { "name": "f", "data_type": "TYPE_FP32", "dims": [2, 2] },
            { "name": "d", "data_type": "TYPE_FP64", "dims": [2] }
          ],
          "output": [{ "name": "y", "data_type": "TYPE_FP32", "dims": [1] }, { "name": "z", "data_type": "TYPE_INT64", "dims": [1] }]
        }
        """,
        "types.json");

    private static readonly ModelConfig CtrRanker = ModelConfigReader.Read(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json"));

    /// <summary>Each input's datatype, shape and bytes as the model's buffer must hold them.</summary>
    private static readonly (string Name, string Type, long[] Shape, byte[] Bytes)[] TypeInputs =
    [
        ("b", "BOOL", [3], [1, 0, 1]),
        ("u8", "UINT8", [2], [0, 255]),
        ("i8", "INT8", [2], Bytes<sbyte>(-128, 127)),
        ("i16", "INT16", [2], Bytes<short>(short.MinValue, short.MaxValue)),
        ("i32", "INT32", [2], Bytes(int.MinValue, int.MaxValue)),
        ("i64", "INT64", [2], Bytes(long.MinValue, long.MaxValue)),
        ("h", "FP16", [2], Bytes((Half)1.5f, (Half)(-2f))),
        ("bf", "BF16", [2], Bytes<ushort>(0x3FC0, 0xBE80)),
        ("f", "FP32", [2, 2], Bytes(0.25f, -1f, float.NaN, 1e-3f)),
        ("d", "FP64", [2], Bytes(0.1, -1e300)),
    ];

    public static IEnumerable<object[]> Segments() => [[int.MaxValue], [1], [3], [7], [64]];

    [Theory]
    [MemberData(nameof(Segments))]
    public void Raw_contents_of_every_datatype_are_borrowed_as_they_are(int segmentBytes)
    {
        var message = new ModelInferRequest { ModelName = "types", Id = "raw" };
        foreach (var (name, type, shape, bytes) in TypeInputs)
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = type };
            input.Shape.AddRange(shape);
            message.Inputs.Add(input);
            message.RawInputContents.Add(ByteString.CopyFrom(bytes));
        }

        var request = Decode(Types, message.ToByteArray(), segmentBytes);
        Assert.Equal("raw", request.Id);
        AssertInputs(request);
    }

    [Theory]
    [MemberData(nameof(Segments))]
    public void Typed_contents_of_every_datatype_are_converted_packed(int segmentBytes)
    {
        var message = new ModelInferRequest { ModelName = "types" };
        foreach (var (name, type, shape, _) in TypeInputs)
        {
            if (type is "FP16" or "BF16")
            {
                continue;
            }

            var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = type, Contents = TypedOf(name) };
            input.Shape.AddRange(shape);
            message.Inputs.Add(input);
        }

        var request = InferenceRequest.ForConfig(TypesWithoutHalf);
        GrpcRequestDecoder.Decode(Segmented.Of(message.ToByteArray(), segmentBytes), request);
        request.Validate();
        foreach (var (name, _, shape, bytes) in TypeInputs.Where(t => t.Type is not ("FP16" or "BF16")))
        {
            int index = TypesWithoutHalf.InputIndex(System.Text.Encoding.UTF8.GetBytes(name));
            Assert.Equal(shape, request.InputShape(index).ToArray());
            Assert.Equal(bytes, request.InputSource(index).ToArray());
        }
    }

    [Fact]
    public void Fields_out_of_order_unpacked_scalars_and_unknown_fields_read_the_same()
    {
        // Written by hand, backwards: raw contents before the inputs, the model's name last,
        // shapes and typed values one element per tag, unknown fields at every level.
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        byte[] sparse = Wire.Encode("INT64", golden.Request.Inputs[0].Values);
        float[] dense = [.. golden.Request.Inputs[1].Values.Select(v => (float)v)];
        var stream = new MemoryStream();
        var w = new CodedOutputStream(stream);
        w.WriteTag(7, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(sparse));
        w.WriteTag(99, WireFormat.WireType.Fixed64);
        w.WriteFixed64(42);
        w.WriteTag(6, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("probability");
        }));
        w.WriteTag(5, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(Message(i =>
        {
            i.WriteTag(3, WireFormat.WireType.Varint);
            i.WriteInt64(1);
            i.WriteTag(77, WireFormat.WireType.Fixed32);
            i.WriteFixed32(7);
            i.WriteTag(3, WireFormat.WireType.Varint);
            i.WriteInt64(26);
            i.WriteTag(2, WireFormat.WireType.LengthDelimited);
            i.WriteString("INT64");
            i.WriteTag(1, WireFormat.WireType.LengthDelimited);
            i.WriteString("sparse");
        }));
        w.WriteTag(3, WireFormat.WireType.LengthDelimited);
        w.WriteString("out-of-order");
        w.WriteTag(5, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(Message(i =>
        {
            i.WriteTag(1, WireFormat.WireType.LengthDelimited);
            i.WriteString("dense");
            i.WriteTag(2, WireFormat.WireType.LengthDelimited);
            i.WriteString("FP32");
            i.WriteTag(3, WireFormat.WireType.LengthDelimited);
            i.WriteBytes(Message(s =>
            {
                s.WriteInt64(1);
                s.WriteInt64(13);
            }));
        }));
        w.WriteTag(7, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(dense.AsSpan()).ToArray()));
        w.WriteTag(1, WireFormat.WireType.LengthDelimited);
        w.WriteString("ctr-ranker");
        w.Flush();

        var request = Decode(CtrRanker, stream.ToArray(), 5);
        Assert.Equal("out-of-order", request.Id);
        Assert.Equal([1L, 26], request.InputShape(0).ToArray());
        Assert.Equal(sparse, request.InputSource(0).ToArray());
        Assert.Equal([1L, 13], request.InputShape(1).ToArray());
        Assert.Equal(MemoryMarshal.AsBytes(dense.AsSpan()).ToArray(), request.InputSource(1).ToArray());
        Assert.True(request.OutputRequested(0));

        GrpcRequestDecoder.ReadTarget(Segmented.Of(stream.ToArray(), 3), out var model, out var version);
        Assert.Equal("ctr-ranker"u8.ToArray(), model.ToArray());
        Assert.True(version.IsEmpty);
    }

    [Fact]
    public void Unpacked_typed_values_and_parameters_are_read()
    {
        var stream = new MemoryStream();
        var w = new CodedOutputStream(stream);
        w.WriteTag(5, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(Message(i =>
        {
            i.WriteTag(1, WireFormat.WireType.LengthDelimited);
            i.WriteString("d");
            i.WriteTag(2, WireFormat.WireType.LengthDelimited);
            i.WriteString("FP64");
            i.WriteTag(3, WireFormat.WireType.Varint);
            i.WriteInt64(2);
            i.WriteTag(5, WireFormat.WireType.LengthDelimited);
            i.WriteBytes(Message(c =>
            {
                c.WriteTag(7, WireFormat.WireType.Fixed64);
                c.WriteDouble(0.1);
                c.WriteTag(7, WireFormat.WireType.Fixed64);
                c.WriteDouble(-1e300);
            }));
        }));
        w.Flush();
        var message = ModelInferRequest.Parser.ParseFrom(stream.ToArray());
        Assert.Equal([0.1, -1e300], message.Inputs[0].Contents.Fp64Contents);
        message.Parameters["priority"] = new InferParameter { Uint64Param = 2 };
        message.Parameters["timeout"] = new InferParameter { Int64Param = 5000 };
        message.Parameters["qos"] = new InferParameter { StringParam = "realtime" };
        message.Parameters["sequence_id"] = new InferParameter { StringParam = "ignored" };

        var config = ModelConfigReader.Parse("""{"name": "d", "platform": "pytorch_libtorch", "max_batch_size": 0, "input": [{ "name": "d", "data_type": "TYPE_FP64", "dims": [2] }], "output": [{ "name": "y", "data_type": "TYPE_FP32", "dims": [1] }]}""", "d.json");
        var request = Decode(config, message.ToByteArray(), 2);
        Assert.Equal(Bytes(0.1, -1e300), request.InputSource(0).ToArray());
        Assert.Equal(2, request.Priority);
        Assert.Equal(5000, request.TimeoutMicroseconds);
        Assert.Equal(QosClass.Realtime, request.Qos);
    }

    [Fact]
    public void Every_truncation_is_bad_input()
    {
        byte[] whole = GrpcWire.Request("ctr-ranker", GoldenCase.Load("ctr-ranker", "batch1").Request, raw: true).ToByteArray();
        for (int length = 0; length < whole.Length; length++)
        {
            var request = InferenceRequest.ForConfig(CtrRanker);
            var e = Assert.Throws<InferenceException>(() =>
            {
                GrpcRequestDecoder.Decode(new ReadOnlySequence<byte>(whole, 0, length), request);
                request.Validate();
            });
            Assert.Equal(InferenceStatus.BadRequest, e.Status);
        }
    }

    public static IEnumerable<object[]> Malformed()
    {
        // (case, bytes, expected substring of the error)
        yield return ["inputs as a varint", new byte[] { 5 << 3, 1 }, "malformed ModelInferRequest: inputs: wire type 0 where the protocol has 2"];
        yield return ["a varint of 11 bytes", new byte[] { 3 << 3 | 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, "a varint longer than 64 bits"];
        yield return ["a length past the end", new byte[] { 7 << 3 | 2, 100, 1, 2 }, "raw_input_contents: its length 100 runs past the end of the message (2 bytes left)"];
        yield return ["a group", new byte[] { 9 << 3 | 3 }, "wire type 3 is not one this protocol uses"];
        yield return ["field number 0", new byte[] { 0 << 3 | 0, 1 }, "field number 0 is not valid"];
        yield return ["a name past the end inside an input", new byte[] { 5 << 3 | 2, 3, 1 << 3 | 2, 9, (byte)'x' }, "inputs[0].name: its length 9 runs past the end"];
        yield return ["a shape varint cut", new byte[] { 5 << 3 | 2, 3, 3 << 3 | 2, 1, 0x80 }, "inputs[0].shape: the message ends inside a varint"];
        yield return ["a fixed64 cut", new byte[] { 9 << 3 | 1, 1, 2 }, "the message ends inside a 64-bit value"];
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_messages_are_bad_input_naming_the_field(string @case, byte[] bytes, string expected)
    {
        _ = @case;
        var e = Assert.Throws<InferenceException>(() => GrpcRequestDecoder.Decode(new ReadOnlySequence<byte>(bytes), InferenceRequest.ForConfig(CtrRanker)));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    public static IEnumerable<object[]> BadTyped()
    {
        yield return ["i8", "INT8", new InferTensorContents { IntContents = { 200, 1 } }, "input 'i8': element 0 (200) is outside INT8's range"];
        yield return ["i16", "INT16", new InferTensorContents { IntContents = { 1, -40000 } }, "input 'i16': element 1 (-40000) is outside INT16's range"];
        yield return ["u8", "UINT8", new InferTensorContents { UintContents = { 256, 1 } }, "input 'u8': element 0 (256) is outside UINT8's range"];
        yield return ["h", "FP16", new InferTensorContents { Fp32Contents = { 1, 2 } }, "FP16 has no typed contents field; send its bytes in raw_input_contents"];
        yield return ["f", "FP32", new InferTensorContents { Fp32Contents = { 1, 2, 3 } }, "input 'f': contents.fp32_contents has 3 values, shape [2,2] needs 4"];
        yield return ["i64", "INT64", new InferTensorContents { IntContents = { 1, 2 } }, "datatype INT64 takes contents.int64_contents, not contents.int_contents"];
    }

    [Theory]
    [MemberData(nameof(BadTyped))]
    public void Typed_values_out_of_range_or_in_the_wrong_field_are_bad_input(string name, string type, InferTensorContents contents, string expected)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = type, Contents = contents };
        input.Shape.AddRange(TypeInputs.Single(t => t.Name == name).Shape);
        var message = new ModelInferRequest { ModelName = "types", Inputs = { input } };
        var e = Assert.Throws<InferenceException>(() => GrpcRequestDecoder.Decode(new ReadOnlySequence<byte>(message.ToByteArray()), InferenceRequest.ForConfig(Types)));
        Assert.Equal(InferenceStatus.BadRequest, e.Status);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static readonly ModelConfig TypesWithoutHalf = ModelConfigReader.Parse(
        Types.Document.Replace("""{"name":"h","data_type":"TYPE_FP16","dims":[2]},{"name":"bf","data_type":"TYPE_BF16","dims":[2]},""", "", StringComparison.Ordinal),
        "types-without-half.json");

    private static InferTensorContents TypedOf(string name) => name switch
    {
        "b" => new InferTensorContents { BoolContents = { true, false, true } },
        "u8" => new InferTensorContents { UintContents = { 0, 255 } },
        "i8" => new InferTensorContents { IntContents = { -128, 127 } },
        "i16" => new InferTensorContents { IntContents = { short.MinValue, short.MaxValue } },
        "i32" => new InferTensorContents { IntContents = { int.MinValue, int.MaxValue } },
        "i64" => new InferTensorContents { Int64Contents = { long.MinValue, long.MaxValue } },
        "f" => new InferTensorContents { Fp32Contents = { 0.25f, -1f, float.NaN, 1e-3f } },
        _ => new InferTensorContents { Fp64Contents = { 0.1, -1e300 } },
    };

    private static InferenceRequest Decode(ModelConfig config, byte[] message, int segmentBytes)
    {
        var request = InferenceRequest.ForConfig(config);
        GrpcRequestDecoder.Decode(Segmented.Of(message, segmentBytes), request);
        request.Validate();
        return request;
    }

    private static void AssertInputs(InferenceRequest request)
    {
        for (int i = 0; i < TypeInputs.Length; i++)
        {
            Assert.Equal(TypeInputs[i].Shape, request.InputShape(i).ToArray());
            Assert.Equal(TypeInputs[i].Bytes, request.InputSource(i).ToArray());
        }
    }

    private static ByteString Message(Action<CodedOutputStream> write)
    {
        var stream = new MemoryStream();
        var w = new CodedOutputStream(stream);
        write(w);
        w.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
