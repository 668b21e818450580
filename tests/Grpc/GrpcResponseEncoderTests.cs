using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Inference;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Host.Grpc;
using ModelConfig = LowLatency.Engine.Config.ModelConfig;

namespace LowLatency.Tests.Grpc;

/// <summary>The hand-written ModelInferResponse encoder, read back with Google.Protobuf's generated parsers.</summary>
public sealed class GrpcResponseEncoderTests : IDisposable
{
    private static readonly ModelConfig Answers = ModelConfigReader.Parse(
        """
        {
          "name": "answers", "platform": "pytorch_libtorch", "max_batch_size": 0,
          "input": [{ "name": "x", "data_type": "TYPE_FP32", "dims": [1] }],
          "output": [
            { "name": "i64", "data_type": "TYPE_INT64", "dims": [2] },
            { "name": "f", "data_type": "TYPE_FP32", "dims": [-1] },
            { "name": "empty", "data_type": "TYPE_FP16", "dims": [-1] }
          ]
        }
        """,
        "answers.json");

    private static readonly (string Name, long[] Shape, byte[] Bytes)[] Outputs =
    [
        ("i64", [2], Bytes(long.MinValue, long.MaxValue)),
        ("f", [300], Bytes([.. Enumerable.Range(0, 300).Select(i => i * 0.5f)])),
        ("empty", [0], []),
    ];

    private readonly List<GCHandle> _pinned = [];

    public void Dispose()
    {
        foreach (var h in _pinned)
        {
            h.Free();
        }
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("req-é", null)]
    [InlineData("id", "no healthy version of 'answers'")]
    public void The_answer_reads_back_with_the_generated_parser(string? id, string? degraded)
    {
        var request = Answered(id, null);
        var body = new ArrayBufferWriter<byte>();
        GrpcResponseEncoder.WriteMessage(body, request, degraded);
        var bytes = body.WrittenSpan;
        Assert.Equal(0, bytes[0]);
        Assert.Equal(bytes.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(bytes[1..]));
        Assert.Equal(bytes.Length - 5, GrpcResponseEncoder.Size(request, degraded));

        var response = ModelInferResponse.Parser.ParseFrom(bytes[5..].ToArray());
        Assert.Equal("answers", response.ModelName);
        Assert.Equal("", response.ModelVersion);
        Assert.Equal(id ?? "", response.Id);
        AssertOutputs(response, Outputs.Select(o => o.Name).ToArray());
        if (degraded is null)
        {
            Assert.Empty(response.Parameters);
        }
        else
        {
            Assert.True(response.Parameters["degraded"].BoolParam);
            Assert.Equal(degraded, response.Parameters["degraded_reason"].StringParam);
        }
    }

    [Fact]
    public void Only_the_requested_outputs_are_written_in_model_order()
    {
        var request = Answered("x", ["empty", "i64"]);
        var body = new ArrayBufferWriter<byte>();
        GrpcResponseEncoder.WriteMessage(body, request, null);
        AssertOutputs(ModelInferResponse.Parser.ParseFrom(body.WrittenSpan[5..].ToArray()), ["i64", "empty"]);
    }

    [Fact]
    public void A_stream_answer_and_a_stream_error_read_back_as_ModelStreamInferResponse()
    {
        var request = Answered("s1", null);
        var body = new ArrayBufferWriter<byte>();
        GrpcResponseEncoder.WriteStream(body, request, null);
        Assert.Equal(body.WrittenCount, GrpcResponseEncoder.StreamSize(request, null));
        var answer = ModelStreamInferResponse.Parser.ParseFrom(body.WrittenSpan.ToArray());
        Assert.Equal("", answer.ErrorMessage);
        Assert.Equal("s1", answer.InferResponse.Id);
        AssertOutputs(answer.InferResponse, Outputs.Select(o => o.Name).ToArray());

        body.Clear();
        GrpcResponseEncoder.WriteStreamError(body, "unknown input 'q' — cut", "answers", "s2");
        Assert.Equal(body.WrittenCount, GrpcResponseEncoder.StreamErrorSize("unknown input 'q' — cut", "answers", "s2"));
        var error = ModelStreamInferResponse.Parser.ParseFrom(body.WrittenSpan.ToArray());
        Assert.Equal("unknown input 'q' — cut", error.ErrorMessage);
        Assert.Equal("s2", error.InferResponse.Id);
        Assert.Equal("answers", error.InferResponse.ModelName);
    }

    private static void AssertOutputs(ModelInferResponse response, string[] names)
    {
        Assert.Equal(names, response.Outputs.Select(o => o.Name));
        Assert.Equal(names.Length, response.RawOutputContents.Count);
        for (int i = 0; i < names.Length; i++)
        {
            var expected = Outputs.Single(o => o.Name == names[i]);
            var spec = Answers.Outputs[Answers.OutputIndex(System.Text.Encoding.UTF8.GetBytes(names[i]))];
            Assert.Equal(spec.DataType.ProtocolName(), response.Outputs[i].Datatype);
            Assert.Equal(expected.Shape, response.Outputs[i].Shape);
            Assert.Equal(expected.Bytes, response.RawOutputContents[i].ToByteArray());
        }
    }

    private unsafe InferenceRequest Answered(string? id, string[]? outputs)
    {
        var request = InferenceRequest.ForConfig(Answers);
        request.AddInput(0, TensorDataType.FP32, [1]).Clear();
        foreach (var name in outputs ?? [])
        {
            request.RequestOutput(Answers.OutputIndex(System.Text.Encoding.UTF8.GetBytes(name)));
        }

        request.Id = id;
        request.Validate();
        foreach (var (name, shape, bytes) in Outputs)
        {
            var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            _pinned.Add(handle);
            request.SetOutput(Answers.OutputIndex(System.Text.Encoding.UTF8.GetBytes(name)), shape, (byte*)handle.AddrOfPinnedObject(), bytes.Length);
        }

        return request;
    }

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
