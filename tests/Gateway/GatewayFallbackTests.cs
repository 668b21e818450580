using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Gateway;

/// <summary>An alias whose every backend is out, through Kestrel: 503 naming the alias, panic routing, and a local model's own fallback.</summary>
public sealed class GatewayFallbackTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private static async Task<(HttpStatusCode Status, string? Backend, HttpResponseMessage Response, byte[] Body)> InferAsync(HttpClient client, string model, string? preference = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{model}/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) };
        if (preference is not null)
        {
            request.Headers.Add("X-Model-Preference", preference);
        }

        var response = await client.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string? backend = response.Headers.TryGetValues("X-LowLatency-Backend", out var v) ? v.Single() : null;
        return (response.StatusCode, backend, response, body);
    }

    private static async Task<Dictionary<string, JsonElement>> TableAsync(HttpClient client, string alias)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"/v2/gateway/{alias}"));
        var rows = new Dictionary<string, JsonElement>();
        foreach (var row in doc.RootElement.GetProperty("backends").EnumerateArray())
        {
            rows[row.GetProperty("name").GetString()!] = row.Clone();
        }

        return rows;
    }

    [Fact]
    public async Task With_every_backend_out_the_alias_answers_503_naming_it_and_with_every_backend_ejected_the_base_weights_route()
    {
        // A cool-down of an hour: once ejected, a backend stays open for the whole test.
        var repo = new CtrRepository(name: "ctr-a", versions: 1);
        using var _repo = repo;
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), """
            { "aliases": { "rank-panic": {
                "backends": [ { "name": "a", "model": "ctr-a", "weight": 3 }, { "name": "b", "model": "ctr-b", "weight": 1 } ],
                "weights": { "latency_tolerance": 1000, "tick_milliseconds": 50, "window_seconds": 0.5, "min_requests": 5, "cooldown_seconds": 3600 } } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        foreach (string model in new[] { "ctr-a", "ctr-b" })
        {
            using var unload = await client.PostAsync($"/v2/repository/models/{model}/unload", null);
            Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        }

        // No backend can answer: each request is a 503 that names the alias and says when to retry, until both are ejected.
        var ejectedBy = DateTime.UtcNow.AddSeconds(10);
        Dictionary<string, JsonElement> table;
        do
        {
            for (int i = 0; i < 10; i++)
            {
                var (status, backend, response, body) = await InferAsync(client, "rank-panic");
                using (response)
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                    Assert.Null(backend);
                    Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
                    Assert.Contains("no backend of alias 'rank-panic' can answer now", Wire.ErrorOf(body, Wire.Json), StringComparison.Ordinal);
                }
            }

            table = await TableAsync(client, "rank-panic");
        }
        while ((table["a"].GetProperty("state").GetString() != "open" || table["b"].GetProperty("state").GetString() != "open") && DateTime.UtcNow < ejectedBy);

        Assert.All(table.Values, row => Assert.Equal(("open", 0.0), (row.GetProperty("state").GetString(), row.GetProperty("weight").GetDouble())));

        // a is served again while both are still ejected: panic routing (the base weights) finds it at once,
        // without waiting out the cool-down, and b's failures pass on to it. (Without it, a table of zeros
        // lands every request on the last backend, b, which cannot answer.)
        using (var load = await client.PostAsync("/v2/repository/models/ctr-a/load", null))
        {
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        }

        for (int i = 0; i < 20; i++)
        {
            var (status, backend, response, body) = await InferAsync(client, "rank-panic");
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("a", backend);
                var result = Wire.ParseJson(body);
                Assert.Equal("ctr-a", result.ModelName);
                Assert.Equal(CtrRepository.Expected, (float)result.Outputs[0].Values[0], 4);
            }
        }

        table = await TableAsync(client, "rank-panic");
        Assert.All(table.Values, row => Assert.Equal(("open", 0.0), (row.GetProperty("state").GetString(), row.GetProperty("weight").GetDouble())));
    }

    [Fact]
    public async Task With_the_remote_backend_unreachable_and_the_local_model_without_a_healthy_version_its_fixed_fallback_answers()
    {
        // A port nothing listens on: the remote backend is refused at once (it never ran: retried).
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        // Every answer of ctr-a takes more than 1 us: its first judgement ejects its only version, and its fallback answers.
        var repo = new CtrRepository(name: "ctr-a", versions: 1, edit: c =>
        {
            c["health"] = JsonNode.Parse("""{ "min_requests": 1, "max_p99_latency_us": 1, "cooldown_seconds": 3600 }""");
            c["fallback"] = JsonNode.Parse("""{ "outputs": [ { "name": "probability", "data": [0.5] } ] }""");
        });
        using var _repo = repo;
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": { "rank-fallback": {
                "backends": [ { "name": "far", "url": "http://127.0.0.1:{{closed}}", "model": "ctr-ranker", "weight": 1000 }, { "name": "a", "model": "ctr-a", "weight": 1 } ],
                "weights": { "latency_tolerance": 1000, "tick_milliseconds": 50, "window_seconds": 0.5, "min_requests": 5, "cooldown_seconds": 3600 } } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        var degradedBy = DateTime.UtcNow.AddSeconds(30);
        bool degraded;
        do
        {
            var (status, backend, response, _) = await InferAsync(client, "rank-fallback", preference: "far");
            using (response)
            {
                // The remote fails, the local backend answers: never an error while its model has an answer.
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("a", backend);
                degraded = response.Headers.Contains("X-LowLatency-Degraded");
            }

            await Task.Delay(20);
        }
        while (!degraded && DateTime.UtcNow < degradedBy);

        Assert.True(degraded, "ctr-a's version was not ejected within 30 s");
        for (int i = 0; i < 10; i++)
        {
            var (status, backend, response, body) = await InferAsync(client, "rank-fallback", preference: "far");
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("a", backend);
                Assert.Equal("fallback-response", response.Headers.GetValues("X-LowLatency-Degraded").Single());
                Assert.Equal(0.5, Wire.ParseJson(body).Outputs[0].Values[0]);
            }
        }

        // The remote's failures are its errors in the table: it is ejected (then the preference for it no
        // longer holds and the weights send to a), while the local backend, answering, stays closed.
        var ejectedBy = DateTime.UtcNow.AddSeconds(10);
        Dictionary<string, JsonElement> table;
        do
        {
            for (int i = 0; i < 10; i++)
            {
                var (status, backend, response, _) = await InferAsync(client, "rank-fallback", preference: "far");
                using (response)
                {
                    Assert.Equal((HttpStatusCode.OK, "a"), (status, backend));
                }
            }

            table = await TableAsync(client, "rank-fallback");
        }
        while (table["far"].GetProperty("state").GetString() != "open" && DateTime.UtcNow < ejectedBy);

        Assert.True(table["far"].GetProperty("errors").GetInt64() >= 5);
        Assert.Equal("open", table["far"].GetProperty("state").GetString());
        Assert.Equal("closed", table["a"].GetProperty("state").GetString());
    }
}
