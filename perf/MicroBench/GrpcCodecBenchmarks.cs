using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Requests;
using LowLatency.Host.Grpc;

namespace LowLatency.MicroBench;

/// <summary>
/// The gRPC face's hand-written codec, ctr-ranker, one row: ModelInferRequest decoded from the
/// message's bytes into a request (raw_input_contents borrowed; typed contents converted into the
/// request's own buffer), and ModelInferResponse written from the outputs into a reused buffer
/// (as into Kestrel's pipe). The messages are what tritonclient and Google.Protobuf write.
/// </summary>
public unsafe class GrpcCodecBenchmarks
{
    private ReadOnlySequence<byte> _raw;
    private ReadOnlySequence<byte> _typed;
    private InferenceRequest _request = null!;
    private InferenceRequest _answered = null!;
    private readonly ArrayBufferWriter<byte> _response = new(1024);
    private readonly float[] _probability = GC.AllocateArray<float>(1, pinned: true);

    [GlobalSetup]
    public void Setup()
    {
        var config = Repo.Config("ctr-ranker");
        _request = new InferenceRequest(config);
        var ids = new long[26];
        var dense = new float[13];
        for (int i = 0; i < 26; i++)
        {
            ids[i] = (i * 7919) % 1000;
        }

        for (int i = 0; i < 13; i++)
        {
            dense[i] = i * 0.37f;
        }

        _raw = new ReadOnlySequence<byte>(Message(ids, dense, raw: true));
        _typed = new ReadOnlySequence<byte>(Message(ids, dense, raw: false));

        // An answered request, its output a view of memory it does not own, as the executor leaves it.
        _answered = new InferenceRequest(config);
        _answered.AddInput(0, Engine.Config.TensorDataType.Int64, [1, 26]).Clear();
        _answered.AddInput(1, Engine.Config.TensorDataType.FP32, [1, 13]).Clear();
        _answered.Validate();
        _probability[0] = 0.25f;
        _answered.SetOutput(0, [1, 1], (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_probability, 0), 4);
    }

    /// <summary>ModelInferRequest as Protocol Buffers lays it out (field order, packed shapes and contents).</summary>
    private static byte[] Message(long[] ids, float[] dense, bool raw)
    {
        var body = new ArrayBufferWriter<byte>();
        ProtoWriter.WriteString(body, 1, "ctr-ranker");
        Input(body, "sparse", "INT64", 26, raw ? default : MemoryMarshal.AsBytes(ids.AsSpan()), varints: ids);
        Input(body, "dense", "FP32", 13, raw ? default : MemoryMarshal.AsBytes(dense.AsSpan()), varints: null);
        if (raw)
        {
            ProtoWriter.WriteBytes(body, 7, MemoryMarshal.AsBytes(ids.AsSpan()));
            ProtoWriter.WriteBytes(body, 7, MemoryMarshal.AsBytes(dense.AsSpan()));
        }

        return body.WrittenSpan.ToArray();
    }

    private static void Input(ArrayBufferWriter<byte> w, string name, string type, int width, ReadOnlySpan<byte> fixedContents, long[]? varints)
    {
        var input = new ArrayBufferWriter<byte>();
        ProtoWriter.WriteString(input, 1, name);
        ProtoWriter.WriteString(input, 2, type);
        ProtoWriter.WriteBytes(input, 3, [1, (byte)width]);
        if (!fixedContents.IsEmpty)
        {
            var contents = new ArrayBufferWriter<byte>();
            if (varints is not null)
            {
                var packed = new ArrayBufferWriter<byte>();
                foreach (long v in varints)
                {
                    ProtoWriter.WriteVarint(packed, (ulong)v);
                }

                ProtoWriter.WriteBytes(contents, 3, packed.WrittenSpan);
            }
            else
            {
                ProtoWriter.WriteBytes(contents, 6, fixedContents);
            }

            ProtoWriter.WriteBytes(input, 5, contents.WrittenSpan);
        }

        ProtoWriter.WriteBytes(w, 5, input.WrittenSpan);
    }

    [Benchmark]
    [AllocationBudget(0, "no message object, no ByteString: raw_input_contents borrowed from the message")]
    public int GrpcDecodeRaw()
    {
        var r = _request;
        r.OnRent();
        GrpcRequestDecoder.Decode(_raw, r);
        r.Validate();
        int rows = r.BatchSize;
        r.Dispose();
        return rows;
    }

    [Benchmark]
    [AllocationBudget(0, "typed contents converted into the pooled request's own buffer")]
    public int GrpcDecodeTyped()
    {
        var r = _request;
        r.OnRent();
        GrpcRequestDecoder.Decode(_typed, r);
        r.Validate();
        int rows = r.BatchSize;
        r.Dispose();
        return rows;
    }

    [Benchmark]
    [AllocationBudget(0, "sized first, then written from the output tensors into the response's buffer")]
    public int GrpcEncode()
    {
        _response.ResetWrittenCount();
        GrpcResponseEncoder.WriteMessage(_response, _answered, null);
        return _response.WrittenCount;
    }
}
