using System.Buffers;
using System.Text;
using System.Text.Json;
using LowLatency.Client;
using LowLatency.Client.Wire;
using MessagePack;
using InferResult = LowLatency.Client.InferResult;

namespace LowLatency.Tests.Client;

/// <summary>
/// The HTTP encoders and decoders against independent readers and writers: MessagePack-CSharp and
/// System.Text.Json read what the client writes; answers they write, the client reads in place.
/// Every datatype, empty and large tensors, names that need escaping.
/// </summary>
public sealed class HttpWireTests
{
    private static readonly InferOptions AllOptions = new()
    {
        RequestId = "req \"1\" é",
        Priority = 3,
        Qos = QosClass.Balanced,
        Timeout = TimeSpan.FromSeconds(2),
        Outputs = ["y\\1", "z"],
    };

    public static IEnumerable<object[]> Sizes() => [[0], [1], [37], [1_000_000]];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_MessagePack_request_reads_back_with_MessagePack_CSharp(int elements)
    {
        var samples = TensorSamples.All.Select((t, i) => TensorSamples.Of(t, $"in\"{t}", elements, seed: i)).ToArray();
        var call = Call([.. samples.Select(s => s.Input)], AllOptions);
        var buffer = new byte[MsgPackRequestEncoder.UpperBound(call)];

        int length = MsgPackRequestEncoder.Encode(call, buffer, out int timeoutAt);

        var map = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(buffer.AsMemory(0, length), MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData))!;
        Assert.Equal("req \"1\" é", map["id"]);
        var parameters = (Dictionary<object, object>)map["parameters"];
        Assert.Equal(3, Convert.ToInt64(parameters["priority"]));
        Assert.Equal("balanced", parameters["qos"]);
        Assert.InRange(Convert.ToInt64(parameters["timeout"]), 1_500_000, 1_800_000);
        Assert.Equal(["y\\1", "z"], ((object[])map["outputs"]).Select(o => ((Dictionary<object, object>)o)["name"]));
        var inputs = (object[])map["inputs"];
        for (int i = 0; i < samples.Length; i++)
        {
            var input = (Dictionary<object, object>)inputs[i];
            Assert.Equal(samples[i].Input.Name, input["name"]);
            Assert.Equal(TensorSamples.Name(samples[i].Input.Datatype), input["datatype"]);
            Assert.Equal(TensorSamples.ShapeOf(elements), ((object[])input["shape"]).Select(Convert.ToInt64));
            Assert.Equal(samples[i].Bytes, (byte[])input["data"]);
        }

        // A retry rewrites the time left in place.
        MsgPackRequestEncoder.PatchTimeout(buffer, timeoutAt, 1234);
        var patched = (Dictionary<object, object>)MessagePackSerializer.Deserialize<Dictionary<object, object>>(buffer.AsMemory(0, length))["parameters"];
        Assert.Equal(1234, Convert.ToInt64(patched["timeout"]));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_JSON_request_with_binary_tensors_reads_back_with_System_Text_Json(int elements)
    {
        var samples = TensorSamples.All.Select((t, i) => TensorSamples.Of(t, $"in\"\\\n{t}", elements, seed: i)).ToArray();
        var call = Call([.. samples.Select(s => s.Input)], AllOptions);
        var buffer = new byte[JsonBinaryRequestEncoder.UpperBound(call)];

        int length = JsonBinaryRequestEncoder.Encode(call, buffer, out int jsonLength, out int timeoutAt);

        using (var doc = JsonDocument.Parse(buffer.AsMemory(0, jsonLength)))
        {
            var root = doc.RootElement;
            Assert.Equal("req \"1\" é", root.GetProperty("id").GetString());
            var parameters = root.GetProperty("parameters");
            Assert.Equal(3, parameters.GetProperty("priority").GetInt32());
            Assert.Equal("balanced", parameters.GetProperty("qos").GetString());
            Assert.True(parameters.GetProperty("binary_data_output").GetBoolean());
            Assert.InRange(parameters.GetProperty("timeout").GetInt64(), 1_500_000, 1_800_000);
            Assert.Equal(["y\\1", "z"], root.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
            Assert.All(root.GetProperty("outputs").EnumerateArray(), o => Assert.True(o.GetProperty("parameters").GetProperty("binary_data").GetBoolean()));
            int offset = jsonLength;
            var inputs = root.GetProperty("inputs").EnumerateArray().ToArray();
            for (int i = 0; i < samples.Length; i++)
            {
                Assert.Equal(samples[i].Input.Name, inputs[i].GetProperty("name").GetString());
                Assert.Equal(TensorSamples.Name(samples[i].Input.Datatype), inputs[i].GetProperty("datatype").GetString());
                Assert.Equal(TensorSamples.ShapeOf(elements), inputs[i].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
                int size = inputs[i].GetProperty("parameters").GetProperty("binary_data_size").GetInt32();
                Assert.Equal(samples[i].Bytes, buffer.AsSpan(offset, size).ToArray());
                offset += size;
            }

            Assert.Equal(length, offset);
        }

        JsonBinaryRequestEncoder.PatchTimeout(buffer, timeoutAt, 98765);
        using var patched = JsonDocument.Parse(buffer.AsMemory(0, jsonLength));
        Assert.Equal(98765, patched.RootElement.GetProperty("parameters").GetProperty("timeout").GetInt64());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_MessagePack_answer_of_every_datatype_decodes_in_place(int elements)
    {
        var samples = TensorSamples.All.Select((t, i) => (Type: t, TensorSamples.Of(t, $"out_{t}", elements, seed: 50 + i).Bytes)).ToArray();
        var w = new ArrayBufferWriter<byte>();
        var m = new MessagePackWriter(w);
        m.WriteMapHeader(6);
        m.Write("unknown");
        m.WriteArrayHeader(2);
        m.Write(1.5);
        m.WriteMapHeader(1);
        m.Write("k");
        m.WriteNil();
        m.Write("parameters");
        m.WriteMapHeader(3);
        m.Write("degraded");
        m.Write(true);
        m.Write("degraded_reason");
        m.Write("fallback-response");
        m.Write("other");
        m.Write(-7);
        m.Write("model_name");
        m.Write("mödel");
        m.Write("model_version");
        m.Write("12");
        m.Write("id");
        m.WriteNil();
        m.Write("outputs");
        m.WriteArrayHeader(samples.Length);
        foreach (var (type, bytes) in samples)
        {
            m.WriteMapHeader(5);
            m.Write("name");
            m.Write($"out_{type}");
            m.Write("parameters");
            m.WriteMapHeader(0);
            m.Write("datatype");
            m.Write(TensorSamples.Name(type));
            m.Write("shape");
            m.WriteArrayHeader(2);
            foreach (long d in TensorSamples.ShapeOf(elements))
            {
                m.Write(d);
            }

            m.Write("data");
            m.Write(bytes);
        }

        m.Flush();

        using var result = Pooled(w.WrittenSpan, out int length);
        MsgPackResponseDecoder.Decode(result, length);

        Assert.Equal("mödel", result.ModelName);
        Assert.Equal("12", result.ModelVersion);
        Assert.Null(result.Id);
        Assert.True(result.IsDegraded);
        Assert.Equal("fallback-response", result.DegradedReason);
        AssertOutputs(samples, elements, result);
    }

    [Fact]
    public void A_JSON_answer_with_binary_tensors_decodes_in_place_escaped_names_included()
    {
        var samples = TensorSamples.All.Select((t, i) => (Type: t, TensorSamples.Of(t, $"out_{t}", 5, seed: 70 + i).Bytes)).ToArray();
        var json = new StringBuilder("{\"model_name\":\"m\\u00f6del\",\"extra\":{\"a\":[1,2,{\"b\":null}]},\"model_version\":\"12\",\"id\":\"x\\\"y\",\"parameters\":{\"degraded\":false},\"outputs\":[");
        for (int i = 0; i < samples.Length; i++)
        {
            // Escapes in a name: the decoder unescapes it into the side buffer.
            string name = i % 2 == 0 ? $"out_{samples[i].Type}" : $"out\\u005f{samples[i].Type}";
            json.Append(i == 0 ? "" : ",").Append($"{{\"name\":\"{name}\",\"datatype\":\"{TensorSamples.Name(samples[i].Type)}\",\"shape\":[1,5],\"parameters\":{{\"binary_data_size\":{samples[i].Bytes.Length}}}}}");
        }

        json.Append("]}");
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        byte[] body = [.. header, .. samples.SelectMany(s => s.Bytes)];

        using var result = Pooled(body, out int length);
        JsonBinaryResponseDecoder.Decode(result, length, header.Length);

        Assert.Equal("mödel", result.ModelName);
        Assert.Equal("x\"y", result.Id);
        Assert.False(result.IsDegraded);
        AssertOutputs(samples, 5, result);
        Assert.True(result.TryGetOutput("out_FP32", out _));
    }

    [Theory]
    [InlineData("{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1.5]}]}", 0, "not binary")]
    [InlineData("{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[2],\"parameters\":{\"binary_data_size\":4}}]}", 4, "do not fill its shape")]
    [InlineData("{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[1],\"parameters\":{\"binary_data_size\":4}}]}", 8, "belong to none")]
    [InlineData("{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[1],\"parameters\":{\"binary_data_size\":4}}]}", 2, "need more than")]
    [InlineData("{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP8\",\"shape\":[1],\"parameters\":{\"binary_data_size\":4}}]}", 4, "'FP8'")]
    [InlineData("{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[\"1\"]}]}", 0, "not a number")]
    [InlineData("{\"outputs\":[", 0, "malformed")]
    public void A_JSON_answer_that_does_not_add_up_is_refused(string json, int tail, string expected)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        using var result = Pooled([.. header, .. new byte[tail]], out int length);

        var e = Assert.Throws<MalformedAnswerException>(() => JsonBinaryResponseDecoder.Decode(result, length, header.Length));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x91, 0x01 }, "not a map")]
    [InlineData(new byte[] { 0x81, 0xa7, (byte)'o', (byte)'u', (byte)'t', (byte)'p', (byte)'u', (byte)'t', (byte)'s', 0x91, 0x82, 0xa4, (byte)'n', (byte)'a', (byte)'m', (byte)'e', 0xa1, (byte)'y', 0xa4, (byte)'d', (byte)'a', (byte)'t', (byte)'a', 0xc4, 0x09 }, "ends early")]
    [InlineData(new byte[] { 0x81, 0xa7, (byte)'o', (byte)'u', (byte)'t', (byte)'p', (byte)'u', (byte)'t', (byte)'s', 0x91, 0x81, 0xa4, (byte)'n', (byte)'a', (byte)'m', (byte)'e', 0xa1, (byte)'y' }, "datatype ''")]
    public void A_MessagePack_answer_that_does_not_add_up_is_refused(byte[] body, string expected)
    {
        using var result = Pooled(body, out int length);

        var e = Assert.Throws<MalformedAnswerException>(() => MsgPackResponseDecoder.Decode(result, length));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_bodies_give_the_servers_message_in_either_encoding()
    {
        var w = new ArrayBufferWriter<byte>();
        var m = new MessagePackWriter(w);
        m.WriteMapHeader(2);
        m.Write(5);
        m.Write("not a key");
        m.Write("error");
        m.Write("unknown input 'x'");
        m.Flush();

        Assert.Equal("unknown input 'x'", ErrorBody.Message(w.WrittenSpan, "application/msgpack"));
        Assert.Equal("queue full", ErrorBody.Message("{\"other\":[1],\"error\":\"queue full\"}"u8, "application/json"));
        Assert.Equal("<html>bad gateway</html>", ErrorBody.Message("<html>bad gateway</html>"u8, "text/html"));
        Assert.Null(ErrorBody.Message([], "application/json"));
    }

    [Theory]
    [InlineData("queue;dur=0.012, compute;dur=0.034, overhead;dur=0.002", 12, 34, 2)]
    [InlineData("compute;desc=\"model\";dur=1.5,cache;dur=9", 0, 1500, 0)]
    [InlineData("queue;dur=abc, compute", 0, 0, 0)]
    public void Server_Timing_is_read_in_milliseconds_to_the_microsecond(string header, int queue, int compute, int overhead)
    {
        var timing = ServerTiming.Parse(header);

        Assert.Equal(queue + compute + overhead > 0, timing.IsPresent);
        Assert.Equal(TimeSpan.FromMicroseconds(queue), timing.Queue);
        Assert.Equal(TimeSpan.FromMicroseconds(compute), timing.Compute);
        Assert.Equal(TimeSpan.FromMicroseconds(overhead), timing.Overhead);
    }

    internal static InferCall Call(InferInput[] inputs, InferOptions options) =>
        new("m", inputs, options, options.Timeout is { } t ? System.Diagnostics.Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * System.Diagnostics.Stopwatch.Frequency) : 0);

    /// <summary>A result over a pooled copy of <paramref name="body"/>, as the transports hand it to the decoders.</summary>
    internal static InferResult Pooled(ReadOnlySpan<byte> body, out int length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, body.Length));
        body.CopyTo(buffer);
        length = body.Length;
        return new InferResult(buffer);
    }

    private static void AssertOutputs((TensorDatatype Type, byte[] Bytes)[] samples, int elements, InferResult result)
    {
        Assert.Equal(samples.Length, result.OutputCount);
        for (int i = 0; i < samples.Length; i++)
        {
            var output = result[i];
            Assert.Equal($"out_{samples[i].Type}", output.Name);
            Assert.True(output.NameEquals($"out_{samples[i].Type}"));
            Assert.Equal(samples[i].Type, output.Datatype);
            Assert.Equal(elements == 5 ? [1, 5] : TensorSamples.ShapeOf(elements), output.Shape.ToArray());
            Assert.True(samples[i].Bytes.AsSpan().SequenceEqual(output.Bytes), $"output {samples[i].Type}");
        }
    }
}
