using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Inference;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using MessagePack;

namespace LowLatency.Tests.Join;

/// <summary>
/// The candidate ranker's golden with STRING user ids: a copy of the example feature repository
/// whose <c>user</c> entity has STRING ids, the golden's users pushed as <see cref="Of"/> of their
/// INT64 id, and its request sent with those strings in a BYTES input, in each encoding. The
/// features, and so PyTorch's answer and the statuses, are the golden's.
/// </summary>
public static class StringIds
{
    public const string Input = "user_id";

    /// <summary>The STRING id standing for INT64 user <paramref name="id"/>: not ASCII, so UTF-8 is exercised.</summary>
    public static string Of(long id) => $"usér-{id:D4}-ü";

    /// <summary>A copy of the example repository whose <c>user</c> entity has STRING ids.</summary>
    public static TempFeatureRepository Repository()
    {
        var repo = new TempFeatureRepository();
        repo.Edit("user.json", node => node["entities"]![0]!["value_type"] = "STRING");
        return repo;
    }

    /// <summary>The golden's push bodies, user ids as <see cref="Of"/> gives them.</summary>
    /// <summary>A golden push with its user ids as the STRING ids <see cref="Of"/> makes.</summary>
    public static LowLatency.Features.Serving.PushRequest Push(LowLatency.Features.Serving.PushRequest push)
    {
        var df = push.Df.ToDictionary(c => c.Key, c => c.Key != Input
            ? c.Value
            : (IReadOnlyList<object?>)[.. c.Value.Select(i => (object?)Of(((System.Text.Json.JsonElement)i!).GetInt64()))]);
        return new LowLatency.Features.Serving.PushRequest { PushSourceName = push.PushSourceName, Df = df };
    }

    public static IEnumerable<JsonObject> PushBodies(JoinedGolden golden, DateTimeOffset at)
    {
        foreach (var body in JoinedServerFixture.PushBodies(golden, at))
        {
            var df = body["df"]!.AsObject();
            if (df[Input] is JsonArray ids)
            {
                df[Input] = new JsonArray([.. ids.Select(i => (JsonNode)Of(i!.GetValue<long>()))]);
            }

            yield return body;
        }
    }

    /// <summary>The golden's user ids as strings.</summary>
    public static string[] Ids(InferDoc request) => [.. request.Inputs.Single(t => t.Name == Input).Values.Select(v => Of((long)v))];

    /// <summary>The request's other inputs (INT64 item ids, FP32 context), as the golden has them.</summary>
    public static InferDoc Others(InferDoc request) => request with { Inputs = [.. request.Inputs.Where(t => t.Name != Input)] };

    /// <summary>Triton's BYTES serialization: each element's 4-byte little-endian length, then its bytes.</summary>
    public static byte[] Serialize(IEnumerable<byte[]> elements)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var e in elements)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(4), e.Length);
            buffer.Advance(4);
            buffer.Write(e);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Serialize(IEnumerable<string> ids) => Serialize(ids.Select(Encoding.UTF8.GetBytes));

    /// <summary>JSON: the ids as <c>"datatype": "BYTES", "data": [strings]</c>, first among the inputs.</summary>
    public static byte[] Json(InferDoc others, IReadOnlyList<string> ids, long[]? shape = null)
    {
        var root = JsonNode.Parse(others.ToJson())!.AsObject();
        var input = new JsonObject
        {
            ["name"] = Input,
            ["datatype"] = "BYTES",
            ["shape"] = new JsonArray([.. (shape ?? [ids.Count, 1]).Select(d => (JsonNode)d)]),
            ["data"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]),
        };
        root["inputs"]!.AsArray().Insert(0, input);
        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    /// <summary>The binary tensor extension: every input's bytes after the JSON, the ids in BYTES serialization; and the JSON's length.</summary>
    public static (byte[] Body, int JsonLength) Binary(InferDoc others, byte[] serializedIds, long rows)
    {
        var root = Wire.BinaryJson(others, _ => true);
        var input = new JsonObject
        {
            ["name"] = Input,
            ["datatype"] = "BYTES",
            ["shape"] = new JsonArray(rows, 1),
            ["parameters"] = new JsonObject { ["binary_data_size"] = serializedIds.Length },
        };
        root["inputs"]!.AsArray().Insert(0, input);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(root);
        return ([.. json, .. serializedIds, .. Wire.BinaryTail(others, _ => true)], json.Length);
    }

    /// <summary>How a MessagePack request carries the ids.</summary>
    public enum MsgPackForm
    {
        /// <summary>An array of str.</summary>
        Strings,

        /// <summary>An array of bin.</summary>
        Bins,

        /// <summary>One bin in Triton's BYTES serialization.</summary>
        Serialized,
    }

    public static byte[] MsgPack(InferDoc others, IReadOnlyList<byte[]> ids, MsgPackForm form, long[]? shape = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(1);
        w.Write("inputs");
        w.WriteArrayHeader(others.Inputs.Count + 1);
        w.WriteMapHeader(4);
        w.Write("name");
        w.Write(Input);
        w.Write("datatype");
        w.Write("BYTES");
        w.Write("shape");
        var dims = shape ?? [ids.Count, 1];
        w.WriteArrayHeader(dims.Length);
        foreach (long d in dims)
        {
            w.Write(d);
        }

        w.Write("data");
        if (form == MsgPackForm.Serialized)
        {
            w.Write(Serialize(ids));
        }
        else
        {
            w.WriteArrayHeader(ids.Count);
            foreach (var id in ids)
            {
                if (form == MsgPackForm.Strings)
                {
                    w.WriteString(id);
                }
                else
                {
                    w.Write(id);
                }
            }
        }

        foreach (var t in others.Inputs)
        {
            InferDoc.WriteMsgPack(ref w, t);
        }

        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[][] Utf8(IEnumerable<string> ids) => [.. ids.Select(Encoding.UTF8.GetBytes)];

    /// <summary>gRPC: the ids in raw_input_contents (BYTES serialization) or in contents.bytes_contents, first among the inputs.</summary>
    public static ModelInferRequest Grpc(InferDoc others, IReadOnlyList<byte[]> ids, bool raw, long[]? shape = null)
    {
        var request = Tests.Grpc.GrpcWire.Request(JoinedGolden.Model, others, raw);
        var input = new ModelInferRequest.Types.InferInputTensor { Name = Input, Datatype = "BYTES" };
        input.Shape.AddRange(shape ?? [ids.Count, 1]);
        if (raw)
        {
            request.RawInputContents.Insert(0, ByteString.CopyFrom(Serialize(ids)));
        }
        else
        {
            input.Contents = new InferTensorContents();
            input.Contents.BytesContents.AddRange(ids.Select(ByteString.CopyFrom));
        }

        request.Inputs.Insert(0, input);
        return request;
    }
}
