using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using MessagePack;
using Microsoft.AspNetCore.Http;

namespace LowLatency.Tests.Protocol;

/// <summary>
/// The response writer on its own, over a request whose outputs are set as the executor sets them
/// (views of memory it does not own): exact JSON, MessagePack read back, lengths that match the
/// bytes written, binary outputs after the JSON, errors in both encodings.
/// </summary>
public sealed class ResponseWriterTests
{
    // No batch dimension; one output per datatype.
    private static readonly ModelConfig Answers = ModelConfigReader.Parse(
        """
        {
          "name": "answers", "platform": "pytorch_libtorch", "max_batch_size": 0,
          "input": [{ "name": "x", "data_type": "TYPE_FP32", "dims": [1] }],
          "output": [
            { "name": "b", "data_type": "TYPE_BOOL", "dims": [3] },
            { "name": "u8", "data_type": "TYPE_UINT8", "dims": [2] },
            { "name": "i8", "data_type": "TYPE_INT8", "dims": [2] },
            { "name": "i16", "data_type": "TYPE_INT16", "dims": [2] },
            { "name": "i32", "data_type": "TYPE_INT32", "dims": [2] },
            { "name": "i64", "data_type": "TYPE_INT64", "dims": [2] },
            { "name": "h", "data_type": "TYPE_FP16", "dims": [2] },
            { "name": "bf", "data_type": "TYPE_BF16", "dims": [2] },
            { "name": "f", "data_type": "TYPE_FP32", "dims": [-1] },
            { "name": "d", "data_type": "TYPE_FP64", "dims": [3] }
          ]
        }
        """,
        "answers.json");

    // What each output holds: the extremes of the integer types, non-finite floats.
    private static readonly Dictionary<string, byte[]> OutputBytes = new()
    {
        ["b"] = [1, 0, 1],
        ["u8"] = [0, 255],
        ["i8"] = Bytes<sbyte>(-128, 127),
        ["i16"] = Bytes<short>(short.MinValue, short.MaxValue),
        ["i32"] = Bytes(int.MinValue, int.MaxValue),
        ["i64"] = Bytes(long.MinValue, long.MaxValue),
        ["h"] = Bytes((Half)1.5f, (Half)(-2f)),
        ["bf"] = Bytes<ushort>(0x3FC0, 0xBE80),
        ["f"] = Bytes(0.25f, float.NaN, float.PositiveInfinity, float.NegativeInfinity),
        ["d"] = Bytes(0.1, double.NaN, double.NegativeInfinity),
    };

    private static readonly Dictionary<string, long[]> OutputShapes = new()
    {
        ["b"] = [3],
        ["u8"] = [2],
        ["i8"] = [2],
        ["i16"] = [2],
        ["i32"] = [2],
        ["i64"] = [2],
        ["h"] = [2],
        ["bf"] = [2],
        ["f"] = [4],
        ["d"] = [3],
    };

    // Pinned, as the executor's output memory is: the request holds raw pointers into them.
    private readonly List<byte[]> _outputMemory = [];

    [Fact]
    public void Json_writes_every_datatype_and_non_finite_floats_as_pythons_json_does()
    {
        var request = AnswerAll(id: "7");
        var body = new ArrayBufferWriter<byte>();

        ResponseWriter.WriteInference(body, WireFormat.Json, request);

        Assert.Equal(
            """{"model_name":"answers","model_version":"","id":"7","outputs":[""" +
            """{"name":"b","datatype":"BOOL","shape":[3],"data":[true,false,true]},""" +
            """{"name":"u8","datatype":"UINT8","shape":[2],"data":[0,255]},""" +
            """{"name":"i8","datatype":"INT8","shape":[2],"data":[-128,127]},""" +
            """{"name":"i16","datatype":"INT16","shape":[2],"data":[-32768,32767]},""" +
            """{"name":"i32","datatype":"INT32","shape":[2],"data":[-2147483648,2147483647]},""" +
            """{"name":"i64","datatype":"INT64","shape":[2],"data":[-9223372036854775808,9223372036854775807]},""" +
            """{"name":"h","datatype":"FP16","shape":[2],"data":[1.5,-2]},""" +
            """{"name":"bf","datatype":"BF16","shape":[2],"data":[1.5,-0.25]},""" +
            """{"name":"f","datatype":"FP32","shape":[4],"data":[0.25,NaN,Infinity,-Infinity]},""" +
            """{"name":"d","datatype":"FP64","shape":[3],"data":[0.1,NaN,-Infinity]}]}""",
            Encoding.UTF8.GetString(body.WrittenSpan));
    }

    [Fact]
    public void Json_writes_only_the_requested_outputs_and_a_degraded_answer_says_why_first()
    {
        var request = Answered(["i8", "d"], id: null);
        var body = new ArrayBufferWriter<byte>();

        ResponseWriter.WriteInference(body, WireFormat.Json, request, degraded: "no healthy version of model 'answers': fixed fallback answer");

        Assert.Equal(
            """{"parameters":{"degraded":true,"degraded_reason":"no healthy version of model 'answers': fixed fallback answer"},""" +
            "\"model_name\":\"answers\",\"model_version\":\"\",\"outputs\":[" +
            """{"name":"i8","datatype":"INT8","shape":[2],"data":[-128,127]},""" +
            """{"name":"d","datatype":"FP64","shape":[3],"data":[0.1,NaN,-Infinity]}]}""",
            Encoding.UTF8.GetString(body.WrittenSpan));
    }

    [Fact]
    public void Outputs_asked_for_as_binary_carry_their_size_in_the_json_and_their_bytes_after_it()
    {
        var request = Answered(["i16", "f", "d"], id: "bin");
        var binary = default(BinaryOutputs);
        binary.Choose(Answers.OutputIndex("f"), binary: true);
        binary.Choose(Answers.OutputIndex("d"), binary: true);
        var json = new ArrayBufferWriter<byte>();
        var tail = new ArrayBufferWriter<byte>();

        ResponseWriter.WriteInference(json, WireFormat.Json, request, binary: binary);
        ResponseWriter.WriteBinaryTensors(tail, request, binary);

        Assert.Equal(
            """{"model_name":"answers","model_version":"","id":"bin","outputs":[""" +
            """{"name":"i16","datatype":"INT16","shape":[2],"data":[-32768,32767]},""" +
            """{"name":"f","datatype":"FP32","shape":[4],"parameters":{"binary_data_size":16}},""" +
            """{"name":"d","datatype":"FP64","shape":[3],"parameters":{"binary_data_size":24}}]}""",
            Encoding.UTF8.GetString(json.WrittenSpan));
        Assert.Equal(40, ResponseWriter.BinaryLength(request, binary));
        Assert.Equal([.. OutputBytes["f"], .. OutputBytes["d"]], tail.WrittenSpan.ToArray());
    }

    [Fact]
    public void Binary_data_output_makes_every_requested_output_binary()
    {
        var request = Answered(["b", "bf"], id: null);
        var binary = new BinaryOutputs { All = true };
        var tail = new ArrayBufferWriter<byte>();

        ResponseWriter.WriteBinaryTensors(tail, request, binary);

        Assert.Equal(3 + 4, ResponseWriter.BinaryLength(request, binary));
        Assert.Equal([.. OutputBytes["b"], .. OutputBytes["bf"]], tail.WrittenSpan.ToArray());
        Assert.Equal(0, ResponseWriter.BinaryLength(request, default));
    }

    [Fact]
    public void MessagePack_carries_each_output_as_its_bytes_and_its_length_is_known_before_writing()
    {
        var request = AnswerAll(id: "mp");
        var body = new ArrayBufferWriter<byte>();

        long length = ResponseWriter.MsgPackLength(request, degraded: null);
        ResponseWriter.WriteInference(body, WireFormat.MsgPack, request);

        Assert.Equal(body.WrittenCount, length);
        var map = Read(body);
        Assert.Equal(new[] { "model_name", "model_version", "id", "outputs" }, map.Keys.Cast<string>());
        Assert.Equal("answers", map["model_name"]);
        Assert.Equal(string.Empty, map["model_version"]);
        Assert.Equal("mp", map["id"]);
        var outputs = ((object[])map["outputs"]).Cast<Dictionary<object, object>>().ToArray();
        Assert.Equal(OutputBytes.Keys, outputs.Select(o => (string)o["name"]));
        foreach (var o in outputs)
        {
            string name = (string)o["name"];
            Assert.Equal(Answers.Outputs[Answers.OutputIndex(name)].DataType.ProtocolName(), o["datatype"]);
            Assert.Equal(OutputShapes[name], ((object[])o["shape"]).Select(Convert.ToInt64));
            Assert.Equal(OutputBytes[name], (byte[])o["data"]);
        }
    }

    [Fact]
    public void A_degraded_MessagePack_answer_with_a_long_id_and_a_large_tensor_is_sized_exactly()
    {
        // A 300 KB tensor takes bin32's header; a 2 KB id and reason outgrow the sizing scratch buffer.
        byte[] large = new byte[300_000];
        new Random(5).NextBytes(large);
        string id = new('i', 2000);
        string reason = new('r', 3000);
        var request = Answered(["f"], id, new Dictionary<string, (long[], byte[])> { ["f"] = ([75_000], large) });
        var body = new ArrayBufferWriter<byte>();

        long length = ResponseWriter.MsgPackLength(request, reason);
        ResponseWriter.WriteInference(body, WireFormat.MsgPack, request, reason);

        Assert.Equal(body.WrittenCount, length);
        var map = Read(body);
        Assert.Equal(new[] { "parameters", "model_name", "model_version", "id", "outputs" }, map.Keys.Cast<string>());
        var parameters = (Dictionary<object, object>)map["parameters"];
        Assert.True((bool)parameters["degraded"]);
        Assert.Equal(reason, parameters["degraded_reason"]);
        Assert.Equal(id, map["id"]);
        var output = (Dictionary<object, object>)((object[])map["outputs"]).Single();
        Assert.Equal(large, (byte[])output["data"]);
        Assert.Equal(new long[] { 75_000 }, ((object[])output["shape"]).Select(Convert.ToInt64));
    }

    [Fact]
    public void Errors_are_one_field_maps_in_either_encoding()
    {
        var json = new ArrayBufferWriter<byte>();
        var msgpack = new ArrayBufferWriter<byte>();

        ResponseWriter.WriteError(json, WireFormat.Json, "model 'x' said \"no\"");
        ResponseWriter.WriteError(msgpack, WireFormat.MsgPack, "boom");

        Assert.Equal("""{"error":"model 'x' said \"no\""}""", Encoding.UTF8.GetString(json.WrittenSpan));
        Assert.Equal([0x81, 0xA5, .. "error"u8, 0xA4, .. "boom"u8], msgpack.WrittenSpan.ToArray());
    }

    [Fact]
    public void Json_escapes_only_what_JSON_requires_so_an_echoed_id_comes_back_at_its_own_size()
    {
        // HTML-sensitive and non-ASCII characters as they are; the quotation mark, the backslash and
        // control characters escaped, as JSON requires.
        var request = Answered(["i8"], id: "<>&'+`é中😀\"\\\n\u0001");
        var body = new ArrayBufferWriter<byte>();

        ResponseWriter.WriteInference(body, WireFormat.Json, request);

        Assert.StartsWith("""{"model_name":"answers","model_version":"","id":"<>&'+`é中😀\"\\\n\u0001","outputs":""", Encoding.UTF8.GetString(body.WrittenSpan), StringComparison.Ordinal);

        // An id of 256 '<' (the most the decoders accept) adds its 256 bytes to the answer, not six times as many.
        var plain = new ArrayBufferWriter<byte>();
        ResponseWriter.WriteInference(plain, WireFormat.Json, Answered(["i8"], id: "x"));
        var hostile = new ArrayBufferWriter<byte>();
        ResponseWriter.WriteInference(hostile, WireFormat.Json, Answered(["i8"], id: new string('<', 256)));
        Assert.Equal(plain.WrittenCount + 255, hostile.WrittenCount);
    }

    [Fact]
    public void An_error_comes_back_at_its_own_size_in_JSON()
    {
        var json = new ArrayBufferWriter<byte>();
        ResponseWriter.WriteError(json, WireFormat.Json, "unknown input '<é>'");
        Assert.Equal("""{"error":"unknown input '<é>'"}""", Encoding.UTF8.GetString(json.WrittenSpan));
    }

    [Fact]
    public void A_runaway_error_message_is_cut_in_either_encoding()
    {
        // Whatever builds a message, the answer stays bounded: at most 8,192 characters, marked as cut.
        foreach (var format in new[] { WireFormat.Json, WireFormat.MsgPack })
        {
            var body = new ArrayBufferWriter<byte>();
            ResponseWriter.WriteError(body, format, new string('<', 1 << 20));
            Assert.InRange(body.WrittenCount, 8_192, 8_192 + 100);
            string text = format == WireFormat.Json
                ? System.Text.Json.JsonDocument.Parse(body.WrittenMemory).RootElement.GetProperty("error").GetString()!
                : (string)Read(body)["error"];
            Assert.EndsWith("… (cut from 1048576 characters)", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_json_answer_sent_through_the_response_buffer_has_a_content_length_equal_to_its_bytes()
    {
        var request = Answered(["i32", "f"], id: "cl");
        var binary = new BinaryOutputs { All = false };
        binary.Choose(Answers.OutputIndex("f"), binary: true);
        var ctx = new DefaultHttpContext();
        using var sent = new MemoryStream();
        ctx.Response.Body = sent;

        var buffer = ResponseBuffer.ForThisThread();
        ResponseWriter.WriteInference(buffer, WireFormat.Json, request, binary: binary);
        int jsonLength = buffer.WrittenCount;
        ResponseBuffer.Send(ctx.Response, buffer, ResponseWriter.BinaryLength(request, binary));
        ResponseWriter.WriteBinaryTensors(ctx.Response.BodyWriter, request, binary);
        await ctx.Response.BodyWriter.FlushAsync();

        Assert.Equal(jsonLength + 16, sent.Length);
        Assert.Equal(sent.Length, ctx.Response.ContentLength);
        Assert.Equal(OutputBytes["f"], sent.ToArray()[jsonLength..]);
        Assert.EndsWith("""{"name":"f","datatype":"FP32","shape":[4],"parameters":{"binary_data_size":16}}]}""", Encoding.UTF8.GetString(sent.ToArray(), 0, jsonLength), StringComparison.Ordinal);
    }

    private InferenceRequest AnswerAll(string? id) => Answered(null, id);

    /// <summary>A validated request for <see cref="Answers"/> asking for <paramref name="outputs"/> (null: all), answered with <see cref="OutputBytes"/> or <paramref name="data"/>.</summary>
    private unsafe InferenceRequest Answered(string[]? outputs, string? id, Dictionary<string, (long[] Shape, byte[] Bytes)>? data = null)
    {
        var request = InferenceRequest.ForConfig(Answers);
        request.AddInput(0, TensorDataType.FP32, [1]).Clear();
        foreach (var name in outputs ?? [])
        {
            request.RequestOutput(Answers.OutputIndex(name));
        }

        request.Id = id;
        request.Validate();
        foreach (var name in outputs ?? [.. OutputBytes.Keys])
        {
            var (shape, bytes) = data?.GetValueOrDefault(name) is { Bytes: not null } given ? given : (OutputShapes[name], OutputBytes[name]);
            byte[] pinned = GC.AllocateArray<byte>(bytes.Length, pinned: true);
            bytes.CopyTo(pinned, 0);
            _outputMemory.Add(pinned);
            request.SetOutput(Answers.OutputIndex(name), shape, (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0), pinned.Length);
        }

        return request;
    }

    private static Dictionary<object, object> Read(ArrayBufferWriter<byte> body) =>
        (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(body.WrittenMemory, MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData))!;

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
