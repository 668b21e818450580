using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace LowLatency.LoadGen;

/// <summary>Request bodies, built once: from a golden case's request (KServe v2 JSON), in any of the three encodings.</summary>
internal static class RequestBodies
{
    public static readonly string[] Encodings = ["msgpack", "json", "binary"];

    public static RequestBody FromGolden(string path, string encoding)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var request = doc.RootElement.TryGetProperty("request", out var r) ? r : doc.RootElement;
        return encoding switch
        {
            "json" => new RequestBody(JsonSerializer.SerializeToUtf8Bytes(request), "application/json", -1),
            "binary" => Binary(request, path),
            _ => new RequestBody(MsgPack(request, path), "application/msgpack", -1),
        };
    }

    /// <summary>
    /// JSON whose inputs carry binary_data_size instead of data, the tensors' bytes after it, and every
    /// output asked for as binary data: what tritonclient and perf_analyzer send by default.
    /// </summary>
    private static RequestBody Binary(JsonElement request, string path)
    {
        var root = JsonNode.Parse(request.GetRawText())!.AsObject();
        var tensors = new List<byte>();
        foreach (var input in root["inputs"]!.AsArray())
        {
            var t = input!.AsObject();
            byte[] bytes = Bytes(t["datatype"]!.GetValue<string>(), JsonSerializer.SerializeToElement(t["data"]).EnumerateArray(), path);
            t.Remove("data");
            t["parameters"] = new JsonObject { ["binary_data_size"] = bytes.Length };
            tensors.AddRange(bytes);
        }

        var parameters = root["parameters"] as JsonObject ?? [];
        root["parameters"] = parameters;
        parameters["binary_data_output"] = true;
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(root);
        return new RequestBody([.. json, .. tensors], "application/octet-stream", json.Length);
    }

    private static byte[] MsgPack(JsonElement request, string path)
    {
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
            w.Write(Bytes(datatype, t.GetProperty("data").EnumerateArray(), path));
        }

        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A tensor's values as its raw little-endian bytes.</summary>
    private static byte[] Bytes(string datatype, JsonElement.ArrayEnumerator values, string path) => datatype switch
    {
        "INT64" => MemoryMarshal.AsBytes(values.Select(v => v.GetInt64()).ToArray().AsSpan()).ToArray(),
        "INT32" => MemoryMarshal.AsBytes(values.Select(v => v.GetInt32()).ToArray().AsSpan()).ToArray(),
        "FP32" => MemoryMarshal.AsBytes(values.Select(v => v.GetSingle()).ToArray().AsSpan()).ToArray(),
        "FP64" => MemoryMarshal.AsBytes(values.Select(v => v.GetDouble()).ToArray().AsSpan()).ToArray(),
        _ => throw new NotSupportedException($"datatype {datatype} in {path}"),
    };
}
