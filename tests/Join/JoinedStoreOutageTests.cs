using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// Feature-joined inference on a real redis-server that is killed and started again under load: no
/// 5xx and no request stuck, rows the near cache holds still served, the rest taking defaults
/// (UNAVAILABLE), the server ready throughout and reading the store again once it is back. And a
/// model that requires a feature refuses a row without it.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class JoinedStoreOutageTests
{
    private const string Infer = "/v2/models/candidate-ranker/infer";

    [RedisFact]
    public async Task A_store_killed_and_restarted_under_load_costs_no_5xx_and_no_stuck_request()
    {
        using var redis = new RedisServerProcess(LoopbackPorts.Free());
        redis.Start();
        using var features = new TempFeatureRepository();
        features.Edit("feature_store.json", n =>
        {
            n["online_stores"] = new JsonObject { ["default"] = new JsonObject { ["type"] = "redis", ["connection_string"] = "127.0.0.1:" + redis.Port.ToString(CultureInfo.InvariantCulture), ["read_timeout_ms"] = 200 } };
            n["near_cache"] = new JsonObject { ["capacity_bytes"] = 1 << 20, ["max_staleness_ms"] = 50, ["not_found_ms"] = 50 };
        });
        using var models = new TempRepository();
        JoinedServerFixture.AddRanker(models);
        var golden = JoinedGolden.Load();
        var (app, address) = await ServerFixture.StartAsync(models.Root, ["--feature-repository", features.Root]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        await ServerFixture.WaitReadyAsync(client);
        await PushAsync(client, golden);

        var statuses = new ConcurrentBag<(int Phase, int Code, string? Statuses, long Ms)>();
        int phase = 0;
        // Counted as the answers come, so that the waits below need not scan the bag.
        int joinedBeforeOutage = 0, unavailableInOutage = 0;
        using var stop = new CancellationTokenSource();
        byte[] body = golden.Request.ToJson();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync(Infer, ServerFixture.Body(body, "application/json"));
                string? text = null;
                if (response.IsSuccessStatusCode)
                {
                    using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
                    text = doc.RootElement.TryGetProperty("parameters", out var p) ? p.GetProperty("feature_statuses").GetString() : null;
                }

                int now = Volatile.Read(ref phase);
                statuses.Add((now, (int)response.StatusCode, text, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds));
                if (now == 0 && text == golden.ExpectedStatuses)
                {
                    Interlocked.Increment(ref joinedBeforeOutage);
                }
                else if (now == 1 && text is not null && text.Contains("UNAVAILABLE", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref unavailableInOutage);
                }
            }
        })).ToArray();

        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref joinedBeforeOutage) > 0, TimeSpan.FromSeconds(30)), "no joined answer before the store went down");
        redis.Kill();
        Volatile.Write(ref phase, 1);
        // Down long enough that the client has seen the store fail and answered many requests without it.
        Assert.True(await Poll.UntilAsync(() => Volatile.Read(ref unavailableInOutage) >= 50, TimeSpan.FromSeconds(30)), "the requests while the store was down were not answered with UNAVAILABLE features");

        using (var ready = await client.GetAsync("/v2/health/ready"))
        {
            Assert.True(ready.IsSuccessStatusCode, "the server stopped being ready while the store was down");
        }

        redis.Start();
        // The push is refused (503, retry) until the client has reconnected; then it is written.
        var retrying = Stopwatch.StartNew();
        while (!await TryPushAsync(client, golden))
        {
            Assert.True(retrying.Elapsed < TimeSpan.FromSeconds(15), "the restarted store never took a push");
            await Task.Delay(50);
        }
        Volatile.Write(ref phase, 2);
        Assert.True(await Poll.UntilAsync(() => statuses.Any(s => s.Phase == 2 && s.Statuses == golden.ExpectedStatuses), TimeSpan.FromSeconds(10)), "the store's rows never came back");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.All(statuses, s => Assert.Equal(200, s.Code));
        Assert.True(statuses.Max(s => s.Ms) < 3000, $"a request took {statuses.Max(s => s.Ms)} ms");
        Assert.Contains(statuses, s => s.Phase == 0 && s.Statuses == golden.ExpectedStatuses);
        // Down: rows fetched before are served stale (user 1001, items 1-3); the others take defaults.
        Assert.Contains(statuses, s => s.Phase == 1 && s.Statuses is { } t && t.Contains("UNAVAILABLE", StringComparison.Ordinal));
        Assert.Contains(statuses, s => s.Phase == 1 && s.Statuses is { } t && t.StartsWith("user_activity:PRESENT,PRESENT,PRESENT,PRESENT,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_required_feature_not_present_fails_the_request_naming_the_row()
    {
        using var models = new TempRepository();
        JoinedServerFixture.AddRanker(models, c => c.Replace("\"inputs\": [", "\"required\": [\"item_static:category\"],\n    \"inputs\": [", StringComparison.Ordinal));
        var golden = JoinedGolden.Load();
        var (app, address) = await ServerFixture.StartAsync(models.Root, ["--feature-repository", TempFeatureRepository.Example]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        await PushAsync(client, golden);

        using var response = await client.PostAsync(Infer, ServerFixture.Body(golden.Request.ToJson(), "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("model 'candidate-ranker' requires the features of view 'item_static', and row 3 (item_id 999) is NOT_FOUND", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), "application/json"));
    }

    [Fact]
    public async Task Without_a_feature_repository_the_joining_model_is_left_unloaded_saying_why()
    {
        using var models = new TempRepository();
        JoinedServerFixture.AddRanker(models);
        models.AddModel("ctr-ranker", File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")));
        var (app, address) = await ServerFixture.StartAsync(models.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        using var index = await client.PostAsync("/v2/repository/index", new StringContent("{}"));
        string text = await index.Content.ReadAsStringAsync();
        Assert.Contains("this server has no feature store to join them from", text);
        using var infer = await client.PostAsync(Infer, ServerFixture.Body(JoinedGolden.Load().Request.ToJson(), "application/json"));
        // Not loaded: the model is unknown to the router, as any model that failed to load.
        Assert.Equal(System.Net.HttpStatusCode.NotFound, infer.StatusCode);
        Assert.Contains("candidate-ranker", Wire.ErrorOf(await infer.Content.ReadAsByteArrayAsync(), "application/json"));
    }

    private static async Task<bool> TryPushAsync(HttpClient client, JoinedGolden golden)
    {
        foreach (var push in JoinedServerFixture.PushBodies(golden, DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            using var pushed = await client.PostAsJsonAsync("/push", push);
            if (!pushed.IsSuccessStatusCode)
            {
                Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, pushed.StatusCode);
                return false;
            }
        }

        return true;
    }

    private static async Task PushAsync(HttpClient client, JoinedGolden golden)
    {
        foreach (var push in JoinedServerFixture.PushBodies(golden, DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            using var pushed = await client.PostAsJsonAsync("/push", push);
            Assert.True(pushed.IsSuccessStatusCode, await pushed.Content.ReadAsStringAsync());
        }
    }
}
