using System.Buffers;
using Google.Protobuf;
using Inference;
using LowLatency.Client;
using LowLatency.Client.Wire;
using MessagePack;
using Xunit.Abstractions;
using InferResult = LowLatency.Client.InferResult;

namespace LowLatency.Tests.Client;

/// <summary>
/// The client's own encode and decode allocate nothing once warm: requests are written into pooled
/// buffers (gRPC's own writer for gRPC), answers are read in place into pooled tables. Measured on
/// this thread around many rounds of a ctr-ranker-sized call with every option set. What is left per
/// call is the <see cref="InferResult"/> object itself and the transport's own.
/// </summary>
public sealed class ClientAllocationTests(ITestOutputHelper output)
{
    private const int Rounds = 1000;
    private const int Results = 8;

    private static readonly InferInput[] Inputs =
    [
        InferInput.Create("sparse", new long[26], 1, 26),
        InferInput.Create("dense", new float[13], 1, 13),
    ];

    private static readonly InferOptions Options = new()
    {
        RequestId = "request-42",
        Priority = 1,
        Qos = QosClass.Realtime,
        Timeout = TimeSpan.FromSeconds(1),
        Outputs = ["probability"],
    };

    private static readonly InferCall Call = HttpWireTests.Call(Inputs, Options);

    [Fact]
    public void MessagePack_encoding_allocates_nothing() => AssertNone("MessagePack encode", () =>
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MsgPackRequestEncoder.UpperBound(Call));
        MsgPackRequestEncoder.Encode(Call, buffer, out int timeoutAt);
        MsgPackRequestEncoder.PatchTimeout(buffer, timeoutAt, Call.ServerTimeoutMicroseconds());
        ArrayPool<byte>.Shared.Return(buffer);
    });

    [Fact]
    public void JSON_with_binary_encoding_allocates_nothing() => AssertNone("JSON+binary encode", () =>
    {
        var buffer = ArrayPool<byte>.Shared.Rent(JsonBinaryRequestEncoder.UpperBound(Call));
        JsonBinaryRequestEncoder.Encode(Call, buffer, out _, out int timeoutAt);
        JsonBinaryRequestEncoder.PatchTimeout(buffer, timeoutAt, Call.ServerTimeoutMicroseconds());
        ArrayPool<byte>.Shared.Return(buffer);
    });

    [Fact]
    public void Protobuf_encoding_allocates_nothing()
    {
        // Grpc.Net.Client hands the serializer a pooled buffer of the announced length; a reused writer stands in for it.
        var writer = new ArrayBufferWriter<byte>(4096);
        AssertNone("protobuf encode", () =>
        {
            long timeout = Call.ServerTimeoutMicroseconds();
            int size = GrpcRequestEncoder.Size(Call, timeout);
            writer.ResetWrittenCount();
            GrpcRequestEncoder.Write(Call, timeout, writer);
            if (size != writer.WrittenCount)
            {
                throw new InvalidOperationException($"wrote {writer.WrittenCount} bytes, announced {size}");
            }
        });
    }

    [Fact]
    public void MessagePack_decoding_allocates_nothing()
    {
        byte[] body = MsgPackAnswer();
        AssertNoneDecoding("MessagePack decode", body, result => MsgPackResponseDecoder.Decode(result, body.Length));
    }

    [Fact]
    public void JSON_with_binary_decoding_allocates_nothing()
    {
        byte[] header = "{\"model_name\":\"ctr-ranker\",\"model_version\":\"1\",\"id\":\"request-42\",\"outputs\":[{\"name\":\"probability\",\"datatype\":\"FP32\",\"shape\":[1,1],\"parameters\":{\"binary_data_size\":4}}]}"u8.ToArray();
        byte[] body = [.. header, .. BitConverter.GetBytes(0.25f)];
        AssertNoneDecoding("JSON+binary decode", body, result => JsonBinaryResponseDecoder.Decode(result, body.Length, header.Length));
    }

    [Fact]
    public void Protobuf_decoding_allocates_nothing()
    {
        var response = new ModelInferResponse { ModelName = "ctr-ranker", ModelVersion = "1", Id = "request-42" };
        response.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = "probability", Datatype = "FP32", Shape = { 1, 1 } });
        response.RawOutputContents.Add(ByteString.CopyFrom(BitConverter.GetBytes(0.25f)));
        byte[] body = response.ToByteArray();
        AssertNoneDecoding("protobuf decode", body, result => GrpcResponseDecoder.Decode(result, body.Length));
    }

    private void AssertNone(string what, Action round)
    {
        for (int i = 0; i < 100; i++)
        {
            round();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Rounds; i++)
        {
            round();
        }

        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{what}: {bytes} B over {Rounds} rounds");
        Assert.Equal(0, bytes);
    }

    /// <summary>Decodes into results made beforehand (the transports make one per call), then reads the output by name as floats.</summary>
    private void AssertNoneDecoding(string what, byte[] body, Action<InferResult> decode)
    {
        float sum = 0;
        var results = new InferResult[Results];
        for (int warm = 0; warm < 20; warm++)
        {
            Round(measured: false);
        }

        long bytes = 0;
        for (int i = 0; i < Rounds / Results; i++)
        {
            bytes += Round(measured: true);
        }

        var spare = ArrayPool<byte>.Shared.Rent(body.Length);
        long beforeObject = GC.GetAllocatedBytesForCurrentThread();
        var one = new InferResult(spare);
        long objectBytes = GC.GetAllocatedBytesForCurrentThread() - beforeObject;
        one.Dispose();
        output.WriteLine($"{what}: {bytes} B over {Rounds} answers (each answer's InferResult object, made beforehand, is not counted: {objectBytes} B)");
        Assert.Equal(0, bytes);
        Assert.Equal(0.25f * Rounds, sum);

        long Round(bool measured)
        {
            for (int r = 0; r < Results; r++)
            {
                results[r] = HttpWireTests.Pooled(body, out _);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var result in results)
            {
                decode(result);
                sum += measured ? result.Output("probability").As<float>()[0] : 0;
            }

            long after = GC.GetAllocatedBytesForCurrentThread();
            foreach (var result in results)
            {
                result.Dispose();
            }

            return after - before;
        }
    }

    private static byte[] MsgPackAnswer()
    {
        var w = new ArrayBufferWriter<byte>();
        var m = new MessagePackWriter(w);
        m.WriteMapHeader(4);
        m.Write("model_name");
        m.Write("ctr-ranker");
        m.Write("model_version");
        m.Write("1");
        m.Write("id");
        m.Write("request-42");
        m.Write("outputs");
        m.WriteArrayHeader(1);
        m.WriteMapHeader(4);
        m.Write("name");
        m.Write("probability");
        m.Write("datatype");
        m.Write("FP32");
        m.Write("shape");
        m.WriteArrayHeader(2);
        m.Write(1);
        m.Write(1);
        m.Write("data");
        m.Write(BitConverter.GetBytes(0.25f));
        m.Flush();
        return w.WrittenSpan.ToArray();
    }
}
