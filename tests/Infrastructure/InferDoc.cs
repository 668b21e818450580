using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace LowLatency.Tests.Infrastructure;

/// <summary>An inference request in the tests' hands, encodable both ways.</summary>
public sealed record InferDoc(string? Id, IReadOnlyList<TensorDoc> Inputs, IReadOnlyList<string>? Outputs = null)
{
    public byte[] ToJson()
    {
        var root = new JsonObject();
        if (Id is not null)
        {
            root["id"] = Id;
        }

        var inputs = new JsonArray();
        foreach (var t in Inputs)
        {
            var data = new JsonArray();
            foreach (var v in t.Values)
            {
                data.Add(t.Datatype.StartsWith("FP", StringComparison.Ordinal) || t.Datatype == "BF16" ? JsonValue.Create(v) : JsonValue.Create((long)v));
            }

            inputs.Add(new JsonObject { ["name"] = t.Name, ["datatype"] = t.Datatype, ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()), ["data"] = data });
        }

        root["inputs"] = inputs;
        if (Outputs is not null)
        {
            root["outputs"] = new JsonArray(Outputs.Select(o => (JsonNode)new JsonObject { ["name"] = o }).ToArray());
        }

        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    /// <summary>One input as the MessagePack body's <c>inputs</c> entry: name, datatype, shape, the raw bytes as a bin.</summary>
    public static void WriteMsgPack(ref MessagePackWriter w, TensorDoc t)
    {
        w.WriteMapHeader(4);
        w.Write("name");
        w.Write(t.Name);
        w.Write("datatype");
        w.Write(t.Datatype);
        w.Write("shape");
        w.WriteArrayHeader(t.Shape.Length);
        foreach (var d in t.Shape)
        {
            w.Write(d);
        }

        w.Write("data");
        w.Write(Wire.Encode(t.Datatype, t.Values));
    }

    public byte[] ToMsgPack()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader((Id is null ? 1 : 2) + (Outputs is null ? 0 : 1));
        if (Id is not null)
        {
            w.Write("id");
            w.Write(Id);
        }

        w.Write("inputs");
        w.WriteArrayHeader(Inputs.Count);
        foreach (var t in Inputs)
        {
            WriteMsgPack(ref w, t);
        }

        if (Outputs is not null)
        {
            w.Write("outputs");
            w.WriteArrayHeader(Outputs.Count);
            foreach (var o in Outputs)
            {
                w.WriteMapHeader(1);
                w.Write("name");
                w.Write(o);
            }
        }

        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
