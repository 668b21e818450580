using System.Buffers;
using System.Net;
using System.Text.Json.Nodes;
using LowLatency.Gateway.Config;
using LowLatency.Host.Protocol;
using LowLatency.Tests.Infrastructure;
using MessagePack;

namespace LowLatency.Tests.Gateway;

/// <summary>An alias's rules on the request: an input's length and a parameter's value send it to another backend than the weights would.</summary>
public sealed class RuleTests
{
    private static readonly GoldenCase One = GoldenCase.Load("ctr-ranker", "batch1");
    private static readonly GoldenCase Eight = GoldenCase.Load("ctr-ranker", "batch8");

    // "small" takes all the weighted traffic (1000:1); the rules send long batches and gold-tier requests to "large".
    private const string Aliases = """
        { "aliases": { "rank": {
            "backends": [ { "name": "small", "model": "ctr-a", "weight": 1000 }, { "name": "large", "model": "ctr-b", "weight": 1 } ],
            "rules": [
              { "input": "dense", "dimension": 0, "at_least": 4, "backend": "large" },
              { "parameter": "tier", "equals": "gold", "backend": "large" } ] } } }
        """;

    private static byte[] WithParameter(byte[] json, string tier)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        root["parameters"] = new JsonObject { ["tier"] = tier, ["priority"] = 0 };
        return System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static async Task<(HttpStatusCode Status, string? Backend, InferResult? Result)> InferAsync(HttpClient client, byte[] body, string type)
    {
        using var response = await client.PostAsync("/v2/models/rank/infer", ServerFixture.Body(body, type));
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        string? backend = response.Headers.TryGetValues("X-LowLatency-Backend", out var v) ? v.Single() : null;
        return (response.StatusCode, backend, response.IsSuccessStatusCode ? (type == Wire.Json ? Wire.ParseJson(bytes) : Wire.ParseMsgPack(bytes)) : null);
    }

    [Fact]
    public async Task A_long_batch_and_a_gold_parameter_go_to_the_rule_s_backend_and_others_by_weight()
    {
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), Aliases);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        foreach (var (body, type) in new[] { (Eight.Request.ToJson(), Wire.Json), (Eight.Request.ToMsgPack(), Wire.MsgPack) })
        {
            var (status, backend, result) = await InferAsync(client, body, type);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("large", backend);
            Assert.Equal("ctr-b", result!.ModelName);
            Wire.AssertClose(Eight.Expected[0], result.Outputs[0]);
        }

        var gold = await InferAsync(client, WithParameter(One.Request.ToJson(), "gold"), Wire.Json);
        Assert.Equal(HttpStatusCode.OK, gold.Status);
        Assert.Equal("large", gold.Backend);
        Assert.Equal("ctr-b", gold.Result!.ModelName);
        Wire.AssertClose(One.Expected[0], gold.Result.Outputs[0]);

        // Neither rule holds: the weights decide (1000:1, spread evenly: small).
        foreach (var body in new[] { One.Request.ToJson(), WithParameter(One.Request.ToJson(), "silver") })
        {
            var other = await InferAsync(client, body, Wire.Json);
            Assert.Equal(HttpStatusCode.OK, other.Status);
            Assert.Equal("small", other.Backend);
            Assert.Equal("ctr-a", other.Result!.ModelName);
        }

        // A preference comes before the rules.
        using var preferred = new HttpRequestMessage(HttpMethod.Post, "/v2/models/rank/infer") { Content = ServerFixture.Body(Eight.Request.ToJson(), Wire.Json) };
        preferred.Headers.Add("X-Model-Preference", "small");
        using var answer = await client.SendAsync(preferred);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("small", answer.Headers.GetValues("X-LowLatency-Backend").Single());
    }

    private static IReadOnlyList<RouteRule> Rules() =>
        AliasFile.Parse("repo/aliases.json", Aliases, _ => false)[0].Rules;

    [Fact]
    public void The_scan_reads_parameters_and_shapes_from_MessagePack_as_from_JSON()
    {
        var rules = Rules();
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(2);
        writer.Write("parameters");
        writer.WriteMapHeader(2);
        writer.Write("priority");
        writer.Write(1);
        writer.Write("tier");
        writer.Write("gold");
        writer.Write("inputs");
        writer.WriteArrayHeader(1);
        writer.WriteMapHeader(3);
        writer.Write("name");
        writer.Write("dense");
        writer.Write("shape");
        writer.WriteArrayHeader(2);
        writer.Write(5);
        writer.Write(13);
        writer.Write("data");
        writer.Write(new byte[5 * 13 * 4]);
        writer.Flush();

        Assert.Equal(0b11UL, RuleScan.Matches(rules, WireFormat.MsgPack, new ReadOnlySequence<byte>(buffer.WrittenMemory), -1));
        var json = """{"parameters":{"tier":"gold"},"inputs":[{"shape":[3,13],"name":"dense","datatype":"FP32","data":[1]}]}"""u8.ToArray();
        Assert.Equal(0b10UL, RuleScan.Matches(rules, WireFormat.Json, new ReadOnlySequence<byte>(json), -1));
        Assert.Equal(0UL, RuleScan.Matches(rules, WireFormat.Json, new ReadOnlySequence<byte>("{\"inputs\": [tru"u8.ToArray()), -1));
    }

    [Fact]
    public void The_scan_allocates_nothing()
    {
        var rules = Rules();
        var json = new ReadOnlySequence<byte>(WithParameter(Eight.Request.ToJson(), "gold"));
        var msgpack = new ReadOnlySequence<byte>(Eight.Request.ToMsgPack());
        ulong seen = 0;
        for (int i = 0; i < 100; i++)
        {
            seen |= RuleScan.Matches(rules, WireFormat.Json, json, -1) | RuleScan.Matches(rules, WireFormat.MsgPack, msgpack, -1);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            seen |= RuleScan.Matches(rules, WireFormat.Json, json, -1) | RuleScan.Matches(rules, WireFormat.MsgPack, msgpack, -1);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0b11UL, seen);
    }
}
