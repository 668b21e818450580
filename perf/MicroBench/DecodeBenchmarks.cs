using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using MessagePack;

namespace LowLatency.MicroBench;

/// <summary>
/// The host's decoders, from the body's bytes into a request: ctr-ranker, one row. MessagePack's
/// tensor bytes are borrowed where they lie (the worker copies them once into the batch); JSON's
/// numbers are parsed into the request's own pinned buffer.
/// </summary>
public class DecodeBenchmarks
{
    private ReadOnlySequence<byte> _msgpack;
    private ReadOnlySequence<byte> _json;
    private ReadOnlySequence<byte> _jsonBinary;
    private long _jsonBinaryHeader;
    private InferenceRequest _request = null!;

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

        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(1);
        w.Write("inputs");
        w.WriteArrayHeader(2);
        WriteInput(ref w, "sparse", "INT64", 26, System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
        WriteInput(ref w, "dense", "FP32", 13, System.Runtime.InteropServices.MemoryMarshal.AsBytes(dense.AsSpan()));
        w.Flush();
        _msgpack = new ReadOnlySequence<byte>(buffer.WrittenMemory.ToArray());
        string json = $$"""
            {"inputs": [
              {"name": "sparse", "datatype": "INT64", "shape": [1, 26], "data": [{{string.Join(", ", ids)}}]},
              {"name": "dense", "datatype": "FP32", "shape": [1, 13], "data": [{{string.Join(", ", dense.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}}]}
            ]}
            """;
        _json = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json));
        // Triton's binary tensor data: the JSON names the inputs' sizes, their bytes follow it.
        byte[] header = Encoding.UTF8.GetBytes("""
            {"inputs": [
              {"name": "sparse", "datatype": "INT64", "shape": [1, 26], "parameters": {"binary_data_size": 208}},
              {"name": "dense", "datatype": "FP32", "shape": [1, 13], "parameters": {"binary_data_size": 52}}
            ], "outputs": [{"name": "probability", "parameters": {"binary_data": true}}]}
            """);
        _jsonBinaryHeader = header.Length;
        _jsonBinary = new ReadOnlySequence<byte>([.. header, .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()), .. System.Runtime.InteropServices.MemoryMarshal.AsBytes(dense.AsSpan())]);
        if (config.InputIndex("sparse"u8) != 0 || config.InputIndex("dense"u8) != 1)
        {
            throw new InvalidOperationException("ctr-ranker's inputs changed; update the benchmark");
        }
    }

    private static void WriteInput(ref MessagePackWriter w, string name, string type, int width, ReadOnlySpan<byte> data)
    {
        w.WriteMapHeader(4);
        w.Write("name");
        w.Write(name);
        w.Write("datatype");
        w.Write(type);
        w.Write("shape");
        w.WriteArrayHeader(2);
        w.Write(1);
        w.Write(width);
        w.Write("data");
        w.Write(data);
    }

    [Benchmark]
    [AllocationBudget(0, "no object graph, no key strings, tensor bytes borrowed")]
    public int MessagePack()
    {
        var r = _request;
        r.OnRent();
        MsgPackRequestDecoder.Decode(_msgpack, r);
        r.Validate();
        int rows = r.BatchSize;
        r.Dispose();
        return rows;
    }

    [Benchmark]
    [AllocationBudget(0, "Utf8JsonReader over the body, numbers parsed into the pooled request's buffer")]
    public int Json()
    {
        var r = _request;
        r.OnRent();
        JsonRequestDecoder.Decode(_json, r);
        r.Validate();
        int rows = r.BatchSize;
        r.Dispose();
        return rows;
    }

    [Benchmark]
    [AllocationBudget(0, "JSON header read as Json's; tensor bytes borrowed from after it, as MessagePack's")]
    public int JsonBinary()
    {
        var r = _request;
        r.OnRent();
        var binary = JsonRequestDecoder.Decode(_jsonBinary, r, _jsonBinaryHeader);
        r.Validate();
        int rows = r.BatchSize + (binary.IsBinary(0) ? 1 : 0);
        r.Dispose();
        return rows;
    }
}
