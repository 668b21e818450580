using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// Every place the server writes a client's text back (the id, names and values in errors, header
/// values, names from the URL), on every route and in both encodings: the answer stays small
/// whatever the client sent, and a burst of such requests leaves the server ready and its memory
/// bounded. The JSON writer once escaped '&lt;' as six bytes and echoed whole ids and names: a
/// 60 MiB id came back as a 377 MB answer.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class EchoAmplificationTests
{
    // The most an error answer may take: a message quotes at most 128 characters of what the client sent.
    private const int SmallAnswer = 2048;

    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task Four_requests_with_a_60_MiB_id_in_parallel_get_small_400s_and_leave_memory_bounded()
    {
        await using var server = await StartAsync();
        long before = server.ResidentBytes();
        byte[] json = WithId(Ctr.Request.ToJson(), new string('<', 60 << 20));
        byte[] msgpack = (Ctr.Request with { Id = new string('<', 60 << 20) }).ToMsgPack();

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => PostAsync(server, "/v2/models/ctr-ranker/infer", i % 2 == 0 ? json : msgpack, i % 2 == 0 ? Wire.Json : Wire.MsgPack)));

        foreach (var (status, type, body) in answers)
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.InRange(body.Length, 1, SmallAnswer);
            Assert.Contains("'id' is longer than 256 bytes", Wire.ErrorOf(body, type), StringComparison.Ordinal);
        }

        Assert.True(await server.IsReadyAsync());
        // The four bodies are held while they are read and decoded (4 x 60 MiB), and a shared machine's
        // GC keeps some of that: 1.5 GiB above the reading before is generous. Before the cap and the
        // encoder, each answer alone was 377 MB, built twice over (the escaped text, then the response).
        long after = server.ResidentBytes();
        Assert.True(after - before < (3L << 29), $"resident memory grew from {before >> 20} MiB to {after >> 20} MiB");
    }

    [Fact]
    public async Task An_id_at_the_cap_comes_back_at_its_own_size_in_both_encodings()
    {
        await using var server = await StartAsync();
        foreach (var type in new[] { Wire.Json, Wire.MsgPack })
        {
            var (okStatus, _, plain) = await PostAsync(server, "/v2/models/ctr-ranker/infer", Encode(Ctr.Request with { Id = "x" }, type), type);
            var (status, _, echoed) = await PostAsync(server, "/v2/models/ctr-ranker/infer", Encode(Ctr.Request with { Id = new string('<', 256) }, type), type);
            Assert.Equal(HttpStatusCode.OK, okStatus);
            Assert.Equal(HttpStatusCode.OK, status);
            // The same answer but for the id: 255 more bytes (one more in MessagePack for the longer string header).
            Assert.InRange(echoed.Length - plain.Length, 255, 257);
        }
    }

    public static IEnumerable<object[]> Echoes()
    {
        // (case, method, path, content type, body, extra header, expected status)
        string t = new('<', 1 << 20);
        string inUrl = Uri.EscapeDataString(new string('<', 2000));
        string inHeader = new('<', 20_000);
        byte[] golden = Ctr.Request.ToJson();
        const string Infer = "/v2/models/ctr-ranker/infer";
        yield return ["id, MessagePack", "POST", Infer, Wire.MsgPack, (Ctr.Request with { Id = t }).ToMsgPack(), null!, 400];
        yield return ["unknown field", "POST", Infer, Wire.Json, Bytes($$"""{"{{t}}": 1, "inputs": []}"""), null!, 400];
        yield return ["unknown field of an input", "POST", Infer, Wire.Json, Bytes($$"""{"inputs": [{"name": "dense", "{{t}}": 1}]}"""), null!, 400];
        yield return ["unknown input", "POST", Infer, Wire.Json, Bytes($$"""{"inputs": [{"name": "{{t}}"}]}"""), null!, 400];
        yield return ["unknown input, answered in MessagePack", "POST", Infer, Wire.Json, Bytes($$"""{"inputs": [{"name": "{{t}}"}]}"""), "Accept: application/msgpack", 400];
        yield return ["unknown output", "POST", Infer, Wire.Json, Bytes($$"""{"inputs": [], "outputs": [{"name": "{{t}}"}]}"""), null!, 400];
        yield return ["datatype", "POST", Infer, Wire.Json, Bytes($$"""{"inputs": [{"name": "dense", "datatype": "{{t}}", "shape": [1, 13], "data": []}]}"""), null!, 400];
        yield return ["qos", "POST", Infer, Wire.Json, Bytes($$$"""{"inputs": [], "parameters": {"qos": "{{{t}}}"}}"""), null!, 400];
        yield return ["Content-Type", "POST", Infer, "application/" + inHeader, golden, null!, 415];
        yield return ["Content-Type charset", "POST", Infer, "application/json; charset=" + inHeader, golden, null!, 415];
        yield return ["Content-Encoding", "POST", Infer, Wire.Json, golden, "Content-Encoding: " + inHeader, 415];
        yield return ["Inference-Header-Content-Length", "POST", Infer, Wire.Json, golden, "Inference-Header-Content-Length: " + inHeader, 400];
        yield return ["model in the URL", "POST", $"/v2/models/{inUrl}/infer", Wire.Json, golden, null!, 404];
        yield return ["version in the URL", "POST", $"/v2/models/ctr-ranker/versions/{inUrl}/infer", Wire.Json, golden, null!, 400];
        yield return ["metadata, model", "GET", $"/v2/models/{inUrl}", null!, null!, null!, 404];
        yield return ["metadata, version", "GET", $"/v2/models/ctr-ranker/versions/{inUrl}", null!, null!, null!, 400];
        yield return ["readiness", "GET", $"/v2/models/{inUrl}/ready", null!, null!, null!, 404];
        yield return ["configuration", "GET", $"/v2/models/{inUrl}/config", null!, null!, null!, 404];
        yield return ["statistics, model", "GET", $"/v2/models/{inUrl}/stats", null!, null!, null!, 404];
        yield return ["statistics, version", "GET", $"/v2/models/ctr-ranker/versions/{inUrl}/stats", null!, null!, null!, 400];
        yield return ["load, model", "POST", $"/v2/repository/models/{inUrl}/load", null!, null!, null!, 400];
        yield return ["unload, model", "POST", $"/v2/repository/models/{inUrl}/unload", null!, null!, null!, 400];
        yield return ["traffic, model", "GET", $"/v2/repository/models/{inUrl}/traffic", null!, null!, null!, 404];
        yield return ["set traffic, model", "PUT", $"/v2/repository/models/{inUrl}/traffic", Wire.Json, Bytes("{}"), null!, 404];
        yield return ["set traffic, version", "PUT", "/v2/repository/models/ctr-ranker/traffic", Wire.Json, Bytes($$"""{"{{t[..(512 << 10)]}}": 1}"""), null!, 400];
        // ctr-ranker's own configuration but for its name, which must be the directory's.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")))!.AsObject();
        config["name"] = t[..(512 << 10)];
        var load = new JsonObject { ["parameters"] = new JsonObject { ["config"] = Relaxed(config) } };
        yield return ["load with a configuration", "POST", "/v2/repository/models/ctr-ranker/load", Wire.Json, Bytes(Relaxed(load)), null!, 400];
    }

    [Fact]
    public async Task Client_text_comes_back_bounded_on_every_route_in_both_encodings()
    {
        await using var server = await StartAsync();
        long before = server.ResidentBytes();
        var failures = new List<string>();
        foreach (var e in Echoes())
        {
            var (name, method, path, type, body, header, expected) = ((string)e[0], (string)e[1], (string)e[2], (string?)e[3], (byte[]?)e[4], (string?)e[5], (int)e[6]);
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                Assert.True(request.Content.Headers.TryAddWithoutValidation("Content-Type", type));
            }

            if (header is not null)
            {
                var (key, value) = (header[..header.IndexOf(':', StringComparison.Ordinal)], header[(header.IndexOf(':', StringComparison.Ordinal) + 2)..]);
                Assert.True(key == "Content-Encoding" ? request.Content!.Headers.TryAddWithoutValidation(key, value) : request.Headers.TryAddWithoutValidation(key, value));
            }

            using var response = await server.Client.SendAsync(request);
            byte[] answer = await response.Content.ReadAsByteArrayAsync();
            if ((int)response.StatusCode != expected || answer.Length > SmallAnswer)
            {
                failures.Add($"{name}: {(int)response.StatusCode}, {answer.Length} bytes: {Encoding.UTF8.GetString(answer, 0, Math.Min(answer.Length, 200))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(await server.IsReadyAsync());
        // Each request is read and refused on its own; nothing of it is kept. 512 MiB above the reading
        // before leaves room for the GC's slack and the machine's other work.
        long after = server.ResidentBytes();
        Assert.True(after - before < (512L << 20), $"resident memory grew from {before >> 20} MiB to {after >> 20} MiB");
    }

    /// <summary>The server with ctr-ranker only (it starts sooner), its repository API in Explicit mode.</summary>
    private static Task<HostileServer> StartAsync() =>
        HostileServer.StartAsync(["--LowLatency:ModelControlMode=Explicit", "--LowLatency:StartupModels:0=ctr-ranker"]);

    private static async Task<(HttpStatusCode Status, string Type, byte[] Body)> PostAsync(HostileServer server, string path, byte[] body, string type)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        using var response = await server.Client.PostAsync(path, content);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsByteArrayAsync());
    }

    private static byte[] Encode(InferDoc doc, string type) => type == Wire.MsgPack ? doc.ToMsgPack() : doc.ToJson();

    private static byte[] WithId(byte[] json, string id)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        root["id"] = id;
        return Bytes(Relaxed(root));
    }

    /// <summary>The JSON with '&lt;' as it is, not as six bytes: what a hostile client sends.</summary>
    private static string Relaxed(JsonNode node) =>
        node.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
