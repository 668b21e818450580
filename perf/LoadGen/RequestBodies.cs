using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using MessagePack;

namespace LowLatency.LoadGen;

/// <summary>Request bodies, built once: from a golden case's request (KServe v2 JSON), in either encoding.</summary>
internal static class RequestBodies
{
    public static byte[] FromGolden(string path, bool msgpack)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var request = doc.RootElement.TryGetProperty("request", out var r) ? r : doc.RootElement;
        if (!msgpack)
        {
            return JsonSerializer.SerializeToUtf8Bytes(request);
        }

        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        var inputs = request.GetProperty("inputs");
        bool hasParameters = request.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object;
        w.WriteMapHeader(hasParameters ? 2 : 1);
        if (hasParameters)
        {
            // Request parameters (qos, priority, timeout) as the server reads them: strings and integers.
            w.Write("parameters");
            w.WriteMapHeader(parameters.EnumerateObject().Count());
            foreach (var p in parameters.EnumerateObject())
            {
                w.Write(p.Name);
                if (p.Value.ValueKind == JsonValueKind.Number)
                {
                    w.Write(p.Value.GetInt64());
                }
                else
                {
                    w.Write(p.Value.GetString());
                }
            }
        }

        w.Write("inputs");
        w.WriteArrayHeader(inputs.GetArrayLength());
        foreach (var t in inputs.EnumerateArray())
        {
            string datatype = t.GetProperty("datatype").GetString()!;
            w.WriteMapHeader(4);
            w.Write("name");
            w.Write(t.GetProperty("name").GetString());
            w.Write("datatype");
            w.Write(datatype);
            w.Write("shape");
            var shape = t.GetProperty("shape");
            w.WriteArrayHeader(shape.GetArrayLength());
            foreach (var d in shape.EnumerateArray())
            {
                w.Write(d.GetInt64());
            }

            w.Write("data");
            var values = t.GetProperty("data").EnumerateArray();
            w.Write(datatype switch
            {
                "INT64" => MemoryMarshal.AsBytes(values.Select(v => v.GetInt64()).ToArray().AsSpan()).ToArray(),
                "INT32" => MemoryMarshal.AsBytes(values.Select(v => v.GetInt32()).ToArray().AsSpan()).ToArray(),
                "FP32" => MemoryMarshal.AsBytes(values.Select(v => v.GetSingle()).ToArray().AsSpan()).ToArray(),
                "FP64" => MemoryMarshal.AsBytes(values.Select(v => v.GetDouble()).ToArray().AsSpan()).ToArray(),
                _ => throw new NotSupportedException($"datatype {datatype} in {path}"),
            });
        }

        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
