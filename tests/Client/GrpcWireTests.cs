using Google.Protobuf;
using Inference;
using LowLatency.Client;
using LowLatency.Client.Wire;

namespace LowLatency.Tests.Client;

/// <summary>
/// The hand-written protobuf of the gRPC transport against the protocol's generated messages:
/// requests it writes parse with <see cref="ModelInferRequest.Parser"/> to what was meant, and
/// answers Google.Protobuf writes decode to what was sent; every datatype, empty and large tensors.
/// </summary>
public sealed class GrpcWireTests
{
    public static IEnumerable<object[]> Sizes() => [[0], [1], [37], [3_000_000]];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_request_of_every_datatype_parses_as_the_generated_message(int elements)
    {
        var samples = TensorSamples.All.Select((t, i) => TensorSamples.Of(t, $"in_{t}", elements, seed: i)).ToArray();
        var options = new InferOptions
        {
            ModelVersion = "3",
            RequestId = "req-é",
            Priority = 2,
            Qos = QosClass.Throughput,
            Timeout = TimeSpan.FromSeconds(5),
            Outputs = ["y", "z"],
        };
        var call = new InferCall("model-μ", [.. samples.Select(s => s.Input)], options, ClientDeadline(options));
        var context = new GrpcContexts.Serialization(chunk: 4096);

        GrpcRequestEncoder.Serialize(call, context);

        // SetPayloadLength, then exactly that many bytes, then Complete once: Grpc.Net.Client does
        // not check, and a wrong length corrupts the stream (grpc-dotnet #629).
        Assert.Equal(context.PayloadLength, context.Written.Length);
        Assert.Equal(1, context.Completions);
        var parsed = ModelInferRequest.Parser.ParseFrom(context.Written);
        Assert.Equal("model-μ", parsed.ModelName);
        Assert.Equal("3", parsed.ModelVersion);
        Assert.Equal("req-é", parsed.Id);
        Assert.Equal(2, parsed.Parameters["priority"].Int64Param);
        Assert.Equal("throughput", parsed.Parameters["qos"].StringParam);
        Assert.InRange(parsed.Parameters["timeout"].Int64Param, 4_000_000, 4_500_000);
        Assert.Equal(["y", "z"], parsed.Outputs.Select(o => o.Name));
        Assert.Equal(samples.Length, parsed.Inputs.Count);
        Assert.Equal(samples.Length, parsed.RawInputContents.Count);
        for (int i = 0; i < samples.Length; i++)
        {
            var (input, bytes) = samples[i];
            Assert.Equal(input.Name, parsed.Inputs[i].Name);
            Assert.Equal(TensorSamples.Name(input.Datatype), parsed.Inputs[i].Datatype);
            Assert.Equal(TensorSamples.ShapeOf(elements), parsed.Inputs[i].Shape);
            Assert.Null(parsed.Inputs[i].Contents);
            Assert.True(bytes.AsSpan().SequenceEqual(parsed.RawInputContents[i].Span), $"raw_input_contents[{i}] ({input.Datatype})");
        }
    }

    [Fact]
    public void A_plain_request_sends_no_optional_field()
    {
        var (input, bytes) = TensorSamples.Of(TensorDatatype.FP32, "x", 4);
        var writer = new GrpcContexts.ChunkedWriter(16);
        var call = new InferCall("m", [input], InferCall.NoOptions, 0);

        GrpcRequestEncoder.Write(call, 0, writer);

        var parsed = ModelInferRequest.Parser.ParseFrom(writer.ToArray());
        Assert.Equal(GrpcRequestEncoder.Size(call, 0), writer.Length);
        Assert.Equal(string.Empty, parsed.ModelVersion);
        Assert.Equal(string.Empty, parsed.Id);
        Assert.Empty(parsed.Parameters);
        Assert.Empty(parsed.Outputs);
        Assert.Equal(bytes, parsed.RawInputContents[0].ToByteArray());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void An_answer_of_every_datatype_written_by_Google_Protobuf_decodes_in_place(int elements)
    {
        var samples = TensorSamples.All.Select((t, i) => (Type: t, Sample: TensorSamples.Of(t, $"out_{t}", elements, seed: 100 + i))).ToArray();
        var response = new ModelInferResponse { ModelName = "model-μ", ModelVersion = "2", Id = "id-1" };
        response.Parameters["degraded"] = new InferParameter { BoolParam = true };
        response.Parameters["degraded_reason"] = new InferParameter { StringParam = "fallback-model" };
        response.Parameters["other"] = new InferParameter { DoubleParam = 1.5 };
        foreach (var (type, (_, bytes)) in samples)
        {
            var output = new ModelInferResponse.Types.InferOutputTensor { Name = $"out_{type}", Datatype = TensorSamples.Name(type) };
            output.Shape.AddRange(TensorSamples.ShapeOf(elements));
            response.Outputs.Add(output);
            response.RawOutputContents.Add(ByteString.CopyFrom(bytes));
        }

        using var result = GrpcResponseDecoder.Deserialize(new GrpcContexts.Deserialization(response.ToByteArray(), segmentBytes: 1000));

        Assert.Equal("model-μ", result.ModelName);
        Assert.Equal("2", result.ModelVersion);
        Assert.Equal("id-1", result.Id);
        Assert.True(result.IsDegraded);
        Assert.Equal("fallback-model", result.DegradedReason);
        Assert.Equal(samples.Length, result.OutputCount);
        for (int i = 0; i < samples.Length; i++)
        {
            var output = result[i];
            Assert.Equal($"out_{samples[i].Type}", output.Name);
            Assert.Equal(samples[i].Type, output.Datatype);
            Assert.Equal(TensorSamples.ShapeOf(elements), output.Shape.ToArray());
            Assert.True(samples[i].Sample.Bytes.AsSpan().SequenceEqual(output.Bytes), $"output {samples[i].Type}");
        }
    }

    [Fact]
    public void An_answer_without_an_id_or_parameters_reads_as_such()
    {
        var response = new ModelInferResponse { ModelName = "m" };
        response.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = "y", Datatype = "FP32", Shape = { 2 } });
        response.RawOutputContents.Add(ByteString.CopyFrom(new byte[8]));

        using var result = Decode(response.ToByteArray());

        Assert.Null(result.Id);
        Assert.Equal(string.Empty, result.ModelVersion);
        Assert.False(result.IsDegraded);
        Assert.Null(result.DegradedReason);
        Assert.Equal(new float[2], result.Output("y").ToArray<float>());
    }

    [Fact]
    public void An_unpacked_shape_and_fields_in_any_order_are_read()
    {
        // raw_output_contents (6) before outputs (5), and the shape as separate varints: both valid protobuf.
        byte[] output = [0x0a, 0x01, (byte)'y', 0x12, 0x05, .. "INT32"u8, 0x18, 0x02, 0x18, 0x01];
        byte[] message = [0x32, 0x08, 1, 0, 0, 0, 2, 0, 0, 0, 0x2a, (byte)output.Length, .. output, 0x0a, 0x01, (byte)'m'];

        using var result = Decode(message);

        Assert.Equal([2L, 1L], result[0].Shape.ToArray());
        Assert.Equal([1, 2], result[0].ToArray<int>());
        Assert.Equal("m", result.ModelName);
    }

    [Fact]
    public void Typed_contents_truncation_and_sizes_that_disagree_are_refused()
    {
        var typed = new ModelInferResponse { ModelName = "m" };
        var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = "y", Datatype = "FP32", Shape = { 1 }, Contents = new InferTensorContents() };
        tensor.Contents.Fp32Contents.Add(1f);
        typed.Outputs.Add(tensor);
        Assert.Contains("typed contents", Assert.Throws<MalformedAnswerException>(() => Decode(typed.ToByteArray())).Message, StringComparison.Ordinal);

        var wrongSize = new ModelInferResponse { ModelName = "m" };
        wrongSize.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = "y", Datatype = "FP32", Shape = { 2 } });
        wrongSize.RawOutputContents.Add(ByteString.CopyFrom(new byte[4]));
        Assert.Contains("do not fill its shape", Assert.Throws<MalformedAnswerException>(() => Decode(wrongSize.ToByteArray())).Message, StringComparison.Ordinal);

        var bytes = new ModelInferResponse { ModelName = "m" };
        bytes.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = "y", Datatype = "FP8", Shape = { 1 } });
        bytes.RawOutputContents.Add(ByteString.CopyFrom(new byte[5]));
        Assert.Contains("'FP8'", Assert.Throws<MalformedAnswerException>(() => Decode(bytes.ToByteArray())).Message, StringComparison.Ordinal);

        byte[] whole = wrongSize.ToByteArray();
        Assert.Throws<MalformedAnswerException>(() => Decode(whole[..^3]));
    }

    internal static InferResult Decode(byte[] message) => GrpcResponseDecoder.Deserialize(new GrpcContexts.Deserialization(message, segmentBytes: 7));

    private static long ClientDeadline(InferOptions options) =>
        System.Diagnostics.Stopwatch.GetTimestamp() + (long)(options.Timeout!.Value.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
}
