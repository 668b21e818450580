using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Lifecycle;

/// <summary>The repository API through Kestrel, as an MLOps engineer's scripts would call it.</summary>
public sealed class RepositoryApiTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<(HttpStatusCode Status, InferResult? Result, string? Error, HttpResponseMessage Response)> InferAsync(HttpClient client, string path, string? routingKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) };
        if (routingKey is not null)
        {
            request.Headers.Add("X-Routing-Key", routingKey);
        }

        var response = await client.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        return response.IsSuccessStatusCode
            ? (response.StatusCode, Wire.ParseJson(body), null, response)
            : (response.StatusCode, null, Wire.ErrorOf(body, Wire.Json), response);
    }

    [Fact]
    public async Task Index_load_unload_and_traffic_work_as_triton_clients_and_operators_expect()
    {
        using var repo = new CtrRepository(versions: 2);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
        await ServerFixture.WaitReadyAsync(client);

        using (var index = await client.PostAsync("/v2/repository/index", Json("{}")))
        {
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            var rows = JsonNode.Parse(await index.Content.ReadAsStringAsync())!.AsArray();
            Assert.Equal(["1:READY", "2:READY"], rows.Select(r => $"{r!["version"]}:{r["state"]}"));
        }

        // Metadata lists the served versions; each is reachable by URL; unversioned goes to the latest.
        using (var meta = await client.GetAsync($"/v2/models/{repo.Name}"))
        {
            Assert.Equal(["1", "2"], JsonNode.Parse(await meta.Content.ReadAsStringAsync())!["versions"]!.AsArray().Select(v => (string)v!));
        }

        Assert.Equal("1", (await InferAsync(client, $"/v2/models/{repo.Name}/versions/1/infer")).Result!.ModelVersion);
        Assert.Equal("2", (await InferAsync(client, $"/v2/models/{repo.Name}/infer")).Result!.ModelVersion);

        // A canary: 50/50 by API, a routing key sticks to one version.
        using (var put = await client.PutAsync($"/v2/repository/models/{repo.Name}/traffic", Json("""{ "1": 50, "2": 50 }""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var seen = new HashSet<string>();
        for (int i = 0; i < 10; i++)
        {
            var r = await InferAsync(client, $"/v2/models/{repo.Name}/infer");
            Wire.AssertClose(Golden.Expected[0], r.Result!.Outputs[0]);
            seen.Add(r.Result.ModelVersion);
        }

        Assert.Equal(["1", "2"], seen.Order());
        string keyed = (await InferAsync(client, $"/v2/models/{repo.Name}/infer", "user-7")).Result!.ModelVersion;
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(keyed, (await InferAsync(client, $"/v2/models/{repo.Name}/infer", "user-7")).Result!.ModelVersion);
        }

        using (var get = await client.GetAsync($"/v2/repository/models/{repo.Name}/traffic"))
        {
            var doc = JsonNode.Parse(await get.Content.ReadAsStringAsync())!;
            Assert.Equal(50, (int)doc["traffic"]!["2"]!);
            Assert.Equal("api", (string)doc["source"]!);
            Assert.Equal("closed", (string)doc["versions"]![0]!["breaker"]!);
        }

        // Bad traffic documents name what is wrong.
        foreach (var (body, expected) in new[] { ("""{ "9": 100 }""", "version 9"), ("""{ "1": 0 }""", "add up to 0"), ("""{ "x": 1 }""", "not a version number"), ("""{ "1": -5 }""", "out of range"), ("[1]", "expected an object"), ("{", "malformed JSON") })
        {
            using var bad = await client.PutAsync($"/v2/repository/models/{repo.Name}/traffic", Json(body));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains(expected, Wire.ErrorOf(await bad.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        // Load with a config override (Triton's parameters.config, as a string), then unload.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(repo.Root, repo.Name, "config.json")))!.AsObject();
        config["version_policy"] = JsonNode.Parse("""{ "specific": { "versions": [1] } }""");
        config.Remove("traffic");
        string load = new JsonObject { ["parameters"] = new JsonObject { ["config"] = config.ToJsonString() } }.ToJsonString();
        using (var loaded = await client.PostAsync($"/v2/repository/models/{repo.Name}/load", Json(load)))
        {
            Assert.Equal(HttpStatusCode.OK, loaded.StatusCode);
        }

        // The configuration served is the override, not the file.
        using (var served = JsonDocument.Parse(await client.GetStringAsync($"/v2/models/{repo.Name}/config")))
        {
            Assert.Equal(1, served.RootElement.GetProperty("version_policy").GetProperty("specific").GetProperty("versions")[0].GetInt32());
            Assert.False(served.RootElement.TryGetProperty("traffic", out var traffic), $"traffic: {traffic}");
        }

        // The API traffic named version 2, no longer served: the split falls back to the config's (the latest).
        Assert.Equal("1", (await InferAsync(client, $"/v2/models/{repo.Name}/infer")).Result!.ModelVersion);
        var gone = await InferAsync(client, $"/v2/models/{repo.Name}/versions/2/infer");
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Contains("no version 2", gone.Error, StringComparison.Ordinal);

        using (var unload = await client.PostAsync($"/v2/repository/models/{repo.Name}/unload", null))
        {
            Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await InferAsync(client, $"/v2/models/{repo.Name}/infer")).Status);
        using (var index = await client.PostAsync("/v2/repository/index", Json("""{ "ready": true }""")))
        {
            Assert.Empty(JsonNode.Parse(await index.Content.ReadAsStringAsync())!.AsArray());
        }

        // Path traversal through the URL never reaches the file system. Sent as raw request lines,
        // since HttpClient would collapse dot segments itself; Kestrel collapses decoded ones too,
        // and those requests match no route (404); the others reach the name check (400).
        foreach (var name in new[] { "..%2F..%2Fetc", "..%2f..%2fctr-ranker", ".hidden", "a%5Cb", "a%00b", "%2E%2E", "..", "%2e%2e%2f" })
        {
            var (status, body) = await RawPostAsync(address, $"/v2/repository/models/{name}/load");
            // An empty 400 is Kestrel refusing the request line itself (a NUL in the path).
            Assert.True(status == 400 ? body.Length == 0 || body.Contains("not a valid model name", StringComparison.Ordinal) : status == 404 && body.Length == 0, $"{name}: {status} {body}");
        }

        Assert.True(Directory.Exists(Path.Combine(repo.Root, repo.Name)));

        using (var missing = await client.PostAsync("/v2/repository/models/nope/load", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var badLoad = await client.PostAsync($"/v2/repository/models/{repo.Name}/load", Json("""{ "parameters": { "config": 5 } }""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badLoad.StatusCode);
        }

        // The routing decisions are in the metrics.
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("lowlatency_engine_routing_requests{", metrics, StringComparison.Ordinal);
        Assert.Contains("route=\"key\"", metrics, StringComparison.Ordinal);
    }

    /// <summary>Sends a request line exactly as written, without the client normalising its path.</summary>
    private static async Task<(int Status, string Body)> RawPostAsync(Uri address, string path)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string response = await reader.ReadToEndAsync();
        int status = int.Parse(response.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        int bodyAt = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (status, bodyAt < 0 ? string.Empty : response[(bodyAt + 4)..]);
    }

    [Fact]
    public async Task A_fixed_fallback_answer_is_flagged_degraded_in_the_body_and_a_header()
    {
        using var repo = new CtrRepository(versions: 1, edit: c =>
        {
            // Every answer takes more than 1 us: the first judgement ejects the only version.
            c["health"] = JsonNode.Parse("""{ "min_requests": 1, "max_p99_latency_us": 1, "cooldown_seconds": 3600 }""");
            c["fallback"] = JsonNode.Parse("""{ "outputs": [ { "name": "probability", "data": [0.5] } ] }""");
        });
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        (HttpStatusCode Status, InferResult? Result, string? Error, HttpResponseMessage Response) r;
        do
        {
            r = await InferAsync(client, $"/v2/models/{repo.Name}/infer");
            Assert.Equal(HttpStatusCode.OK, r.Status);
            await Task.Delay(20);
        }
        while (!r.Response.Headers.Contains("X-LowLatency-Degraded") && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(0.5, r.Result!.Outputs[0].Values[0]);
        Assert.Equal("fallback-response", r.Response.Headers.GetValues("X-LowLatency-Degraded").Single());
        using var again = await client.PostAsync($"/v2/models/{repo.Name}/infer", ServerFixture.Body(Golden.Request.ToJson(), Wire.Json));
        var doc = JsonDocument.Parse(await again.Content.ReadAsByteArrayAsync()).RootElement;
        Assert.True(doc.GetProperty("parameters").GetProperty("degraded").GetBoolean());
        Assert.Contains("no healthy version", doc.GetProperty("parameters").GetProperty("degraded_reason").GetString(), StringComparison.Ordinal);

        // In MessagePack too, sized exactly with the degraded fields in it.
        using (var packed = await client.PostAsync($"/v2/models/{repo.Name}/infer", ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack)))
        {
            var bytes = await packed.Content.ReadAsByteArrayAsync();
            Assert.Equal(HttpStatusCode.OK, packed.StatusCode);
            Assert.Equal("fallback-response", packed.Headers.GetValues("X-LowLatency-Degraded").Single());
            Assert.Equal(bytes.Length, packed.Content.Headers.ContentLength);
            Assert.Equal(0.5, Wire.ParseMsgPack(bytes).Outputs[0].Values[0]);
        }

        // Bad input is still a 400 naming the problem, not a degraded answer.
        var badBody = Encoding.UTF8.GetBytes("""{ "inputs": [ { "name": "sparse", "datatype": "INT64", "shape": [1, 3], "data": [1, 2, 3] } ] }""");
        using var bad = await client.PostAsync($"/v2/models/{repo.Name}/infer", ServerFixture.Body(badBody, Wire.Json));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("route=\"fallback_response\"", metrics, StringComparison.Ordinal);
        Assert.Contains("lowlatency_engine_routing_breaker_transitions{", metrics, StringComparison.Ordinal);
        Assert.Contains("state=\"open\"", metrics, StringComparison.Ordinal);
    }
}
