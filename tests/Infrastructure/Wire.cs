using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace LowLatency.Tests.Infrastructure;

/// <summary>The protocol's wire forms as the tests write and read them: tensor data encodings, JSON and MessagePack responses, error bodies, Triton's binary tensor data.</summary>
public static class Wire
{
    public const string Json = "application/json";
    public const string MsgPack = "application/msgpack";

    public static byte[] Encode(string datatype, double[] values) => datatype switch
    {
        "INT32" => MemoryMarshal.AsBytes(values.Select(v => (int)v).ToArray().AsSpan()).ToArray(),
        "FP32" => MemoryMarshal.AsBytes(values.Select(v => (float)v).ToArray().AsSpan()).ToArray(),
        "FP64" => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
        // INT64, and the 8-byte stand-in that bad-datatype tests send.
        _ => MemoryMarshal.AsBytes(values.Select(v => (long)v).ToArray().AsSpan()).ToArray(),
    };

    public static double[] Decode(string datatype, byte[] bytes) => datatype switch
    {
        "INT64" => MemoryMarshal.Cast<byte, long>(bytes).ToArray().Select(v => (double)v).ToArray(),
        "INT32" => MemoryMarshal.Cast<byte, int>(bytes).ToArray().Select(v => (double)v).ToArray(),
        "FP32" => MemoryMarshal.Cast<byte, float>(bytes).ToArray().Select(v => (double)v).ToArray(),
        "FP64" => MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
        _ => throw new NotSupportedException(datatype),
    };

    /// <summary>
    /// The JSON of a request in Triton's binary tensor data form: inputs for which
    /// <paramref name="binaryInput"/> holds carry <c>parameters.binary_data_size</c> instead of
    /// <c>data</c>; <see cref="BinaryTail"/> gives their bytes, which follow the JSON.
    /// </summary>
    public static JsonObject BinaryJson(InferDoc doc, Func<int, bool> binaryInput)
    {
        var root = JsonNode.Parse(doc.ToJson())!.AsObject();
        var inputs = root["inputs"]!.AsArray();
        for (int i = 0; i < inputs.Count; i++)
        {
            if (binaryInput(i))
            {
                var input = inputs[i]!.AsObject();
                input.Remove("data");
                input["parameters"] = new JsonObject { ["binary_data_size"] = Encode(doc.Inputs[i].Datatype, doc.Inputs[i].Values).Length };
            }
        }

        return root;
    }

    /// <summary>The bytes after <see cref="BinaryJson"/>'s JSON: the binary inputs' tensors, in input order.</summary>
    public static byte[] BinaryTail(InferDoc doc, Func<int, bool> binaryInput) =>
        [.. doc.Inputs.Where((_, i) => binaryInput(i)).SelectMany(t => Encode(t.Datatype, t.Values))];

    public static TensorDoc Tensor(JsonElement e) => new(
        e.GetProperty("name").GetString()!,
        e.GetProperty("datatype").GetString()!,
        e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
        e.GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray());

    public static InferResult ParseJson(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        return new InferResult(
            root.GetProperty("model_name").GetString()!,
            root.GetProperty("model_version").GetString()!,
            root.TryGetProperty("id", out var id) ? id.GetString() : null,
            root.GetProperty("outputs").EnumerateArray().Select(Tensor).ToList());
    }

    public static InferResult ParseMsgPack(byte[] body)
    {
        var map = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(body, MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData))!;
        var outputs = new List<TensorDoc>();
        foreach (Dictionary<object, object> o in (object[])map["outputs"])
        {
            string datatype = (string)o["datatype"];
            outputs.Add(new TensorDoc((string)o["name"], datatype, ((object[])o["shape"]).Select(Convert.ToInt64).ToArray(), Decode(datatype, (byte[])o["data"])));
        }

        return new InferResult((string)map["model_name"], (string)map["model_version"], map.TryGetValue("id", out var id) ? (string)id : null, outputs);
    }

    public static string ErrorOf(byte[] body, string contentType)
    {
        if (contentType.Contains("msgpack", StringComparison.Ordinal))
        {
            var map = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(body)!;
            return (string)map["error"];
        }

        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("error").GetString()!;
    }

    /// <summary>Asserts two tensors agree within rtol 1e-4, atol 1e-5 (the project's golden tolerance).</summary>
    public static void AssertClose(TensorDoc expected, TensorDoc actual, double rtol = 1e-4, double atol = 1e-5)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Datatype, actual.Datatype);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.Values.Length, actual.Values.Length);
        for (int i = 0; i < expected.Values.Length; i++)
        {
            double e = expected.Values[i], a = actual.Values[i];
            Assert.True(Math.Abs(e - a) <= atol + (rtol * Math.Abs(e)), $"{expected.Name}[{i}]: expected {e}, got {a}");
        }
    }
}
