using System.Net;
using System.Text.Json;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Gateway;

/// <summary>Aliases through Kestrel: two copies of ctr-ranker as local backends of one alias.</summary>
public sealed class GatewayEndToEndTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    // Latency tolerance so wide that the two copies' timing cannot move the split: the counts follow the base weights.
    private const string Pinned = """{ "latency_tolerance": 1000, "tick_milliseconds": 50, "window_seconds": 0.5, "min_requests": 5, "cooldown_seconds": 0.5, "probe_requests": 2 }""";

    private static CtrRepository Repository(string weights = Pinned, string alias = "rank")
    {
        var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": { "{{alias}}": {
                "backends": [ { "name": "a", "model": "ctr-a", "weight": 3 }, { "name": "b", "model": "ctr-b", "version": 1, "weight": 1 } ],
                "weights": {{weights}} } } }
            """);
        return repo;
    }

    private static async Task<(HttpStatusCode Status, string? Backend, InferResult? Result)> InferAsync(HttpClient client, string model, string? preference = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{model}/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) };
        if (preference is not null)
        {
            request.Headers.Add("X-Model-Preference", preference);
        }

        using var response = await client.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string? backend = response.Headers.TryGetValues("X-LowLatency-Backend", out var v) ? v.Single() : null;
        return (response.StatusCode, backend, response.IsSuccessStatusCode ? Wire.ParseJson(body) : null);
    }

    [Fact]
    public async Task An_alias_is_answered_by_each_backend_by_weight_and_the_answer_names_it()
    {
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        var counts = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };
        for (int i = 0; i < 80; i++)
        {
            var (status, backend, result) = await InferAsync(client, "rank");
            Assert.Equal(HttpStatusCode.OK, status);
            counts[backend!]++;
            Assert.Equal(backend == "a" ? "ctr-a" : "ctr-b", result!.ModelName);
            Assert.Equal("1", result.ModelVersion);
            Assert.Equal(CtrRepository.Expected, (float)result.Outputs[0].Values[0], 4);
        }

        // 3:1 over 80 consecutive requests: 60 and 20, within a few (the choice is spread evenly, not drawn at random).
        Assert.InRange(counts["a"], 57, 63);
        Assert.InRange(counts["b"], 17, 23);

        // A model called by its own name is not routed by the gateway.
        var direct = await InferAsync(client, "ctr-b");
        Assert.Equal(HttpStatusCode.OK, direct.Status);
        Assert.Null(direct.Backend);
    }

    [Fact]
    public async Task A_preference_naming_a_healthy_backend_wins_and_an_unknown_one_is_ignored()
    {
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        for (int i = 0; i < 10; i++)
        {
            var (status, backend, result) = await InferAsync(client, "rank", preference: "b");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("b", backend);
            Assert.Equal("ctr-b", result!.ModelName);
        }

        var other = await InferAsync(client, "rank", preference: "nope");
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Contains(other.Backend, new[] { "a", "b" });
    }

    [Fact]
    public async Task Weights_move_away_from_a_backend_that_is_out_and_back_when_it_returns()
    {
        // The metrics registry is process-wide and other tests' servers export an alias "rank" too.
        using var repo = Repository(alias: "rank-out");
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        using (var unload = await client.PostAsync("/v2/repository/models/ctr-b/unload", null))
        {
            Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        }

        // Each request b cannot take goes on to a: no request fails while a can answer.
        var ejectedBy = DateTime.UtcNow.AddSeconds(10);
        JsonElement b;
        do
        {
            for (int i = 0; i < 10; i++)
            {
                var (status, backend, _) = await InferAsync(client, "rank-out");
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("a", backend);
            }

            b = await BackendRowAsync(client, "rank-out", "b");
        }
        while (b.GetProperty("state").GetString() != "open" && DateTime.UtcNow < ejectedBy);

        Assert.Equal("open", b.GetProperty("state").GetString());
        Assert.Equal(0, b.GetProperty("weight").GetDouble());
        Assert.True(b.GetProperty("errors").GetInt64() > 0);

        using (var load = await client.PostAsync("/v2/repository/models/ctr-b/load", null))
        {
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        }

        // Probed after the cool-down, then restored step by step to its base weight.
        var restoredBy = DateTime.UtcNow.AddSeconds(15);
        var seen = new HashSet<string>();
        do
        {
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await InferAsync(client, "rank-out")).Status);
            }

            b = await BackendRowAsync(client, "rank-out", "b");
            seen.Add(b.GetProperty("state").GetString()!);
        }
        while (b.GetProperty("state").GetString() != "closed" && DateTime.UtcNow < restoredBy);

        Assert.Equal("closed", b.GetProperty("state").GetString());
        Assert.Equal(1, b.GetProperty("weight").GetDouble());
        Assert.Equal(1, b.GetProperty("base_weight").GetInt32());

        // The table's series are in the metrics too.
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("lowlatency_gateway_backend_weight{alias=\"rank-out\",backend=\"b\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("lowlatency_gateway_backend_state{alias=\"rank-out\",backend=\"a\"} 0", metrics, StringComparison.Ordinal);
        Assert.Contains("lowlatency_gateway_backend_errors_total{alias=\"rank-out\",backend=\"b\"}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_alias_file_is_refused_naming_the_field_and_the_aliases_in_force_stay()
    {
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), """{ "aliases": { "rank": { "backends": [ { "model": "ctr-a", "weight": -1 } ] } } }""");
        using (var reload = await client.PostAsync("/v2/gateway/reload", null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, reload.StatusCode);
            string error = Wire.ErrorOf(await reload.Content.ReadAsByteArrayAsync(), Wire.Json);
            Assert.Contains("aliases.json: field 'aliases.rank.backends[0].weight'", error, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await InferAsync(client, "rank")).Status);

        // A valid file replaces the table: a new alias serves, the old one is gone.
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), """{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "weight": 1 } ] } } }""");
        using (var reload = await client.PostAsync("/v2/gateway/reload", null))
        {
            Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
            Assert.Equal("""{"aliases":["score"]}""", await reload.Content.ReadAsStringAsync());
        }

        var score = await InferAsync(client, "score");
        Assert.Equal(HttpStatusCode.OK, score.Status);
        Assert.Equal("ctr-b", score.Backend);
        Assert.Equal(HttpStatusCode.NotFound, (await InferAsync(client, "rank")).Status);
        using var table = await client.GetAsync("/v2/gateway/rank");
        Assert.Equal(HttpStatusCode.NotFound, table.StatusCode);
    }

    private static async Task<JsonElement> BackendRowAsync(HttpClient client, string alias, string backend)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"/v2/gateway/{alias}"));
        foreach (var row in doc.RootElement.GetProperty("backends").EnumerateArray())
        {
            if (row.GetProperty("name").GetString() == backend)
            {
                return row.Clone();
            }
        }

        throw new InvalidOperationException($"no backend {backend} in the table");
    }
}
