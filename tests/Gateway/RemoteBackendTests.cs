using System.Net;
using System.Text.Json;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Client;
using LowLatency.Tests.Infrastructure;
using LowLatency.Tests.Routing;
using Microsoft.AspNetCore.Http;

namespace LowLatency.Tests.Gateway;

/// <summary>
/// Aliases with remote backends: other LowLatency servers on loopback (a second process, or a second
/// Kestrel whose runners a fault injector slows), reached through LowLatency.Client with the body
/// forwarded as the client encoded it.
/// </summary>
public sealed class RemoteBackendTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private const string Fast = """{ "tick_milliseconds": 50, "window_seconds": 0.5, "min_requests": 5, "cooldown_seconds": 0.5, "probe_requests": 2 }""";

    private static void WriteAliases(string root, string backends, string weights = Fast, string extra = "") =>
        File.WriteAllText(Path.Combine(root, "aliases.json"), $$"""{ "aliases": { "rank": { "backends": [ {{backends}} ], "weights": {{weights}} {{extra}} } } }""");

    private static async Task<(HttpStatusCode Status, string? Backend, InferResult? Result)> InferAsync(HttpClient client, string model, string? preference = null, bool msgpack = false, string? routingKey = null, string? traceparent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{model}/infer")
        {
            Content = msgpack ? ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack) : ServerFixture.Body(Golden.Request.ToJson(), Wire.Json),
        };
        if (preference is not null)
        {
            request.Headers.Add("X-Model-Preference", preference);
        }

        if (routingKey is not null)
        {
            request.Headers.Add("X-Routing-Key", routingKey);
        }

        if (traceparent is not null)
        {
            request.Headers.Add("traceparent", traceparent);
        }

        using var response = await client.SendAsync(request);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string? backend = response.Headers.TryGetValues("X-LowLatency-Backend", out var v) ? v.Single() : null;
        InferResult? result = null;
        if (response.IsSuccessStatusCode)
        {
            result = msgpack ? Wire.ParseMsgPack(body) : Wire.ParseJson(body);
        }

        return (response.StatusCode, backend, result);
    }

    private static void AssertGolden(InferResult result)
    {
        Assert.Equal(Golden.Expected.Count, result.Outputs.Count);
        for (int i = 0; i < Golden.Expected.Count; i++)
        {
            Wire.AssertClose(Golden.Expected[i], result.Outputs.Single(o => o.Name == Golden.Expected[i].Name));
        }
    }

    [Fact]
    public async Task A_remote_backend_answers_with_the_golden_output_and_its_own_model_name_in_either_encoding()
    {
        using var remote = ServerProcess.Start(["--Logging:LogLevel:Default=Warning"]);
        using var remoteClient = new HttpClient { BaseAddress = remote.Address };
        await remote.WaitReadyAsync(remoteClient);

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        WriteAliases(
            repo.Root,
            $$"""{ "name": "near", "model": "ctr-a", "weight": 1 }, { "name": "far", "url": "{{remote.Address}}", "model": "ctr-ranker", "weight": 1 }""",
            extra: """, "rules": [ { "input": "dense", "dimension": 0, "at_least": 4, "backend": "far" } ]""");
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        foreach (bool msgpack in new[] { false, true })
        {
            for (int i = 0; i < 5; i++)
            {
                var (status, backend, result) = await InferAsync(client, "rank", preference: "far", msgpack: msgpack);
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("far", backend);
                Assert.Equal("ctr-ranker", result!.ModelName);
                AssertGolden(result);
            }
        }

        // Without a preference both answer, each under its own name, with the same golden output.
        var seen = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            var (status, backend, result) = await InferAsync(client, "rank");
            Assert.Equal(HttpStatusCode.OK, status);
            seen.Add(backend!);
            Assert.Equal(backend == "far" ? "ctr-ranker" : "ctr-a", result!.ModelName);
            AssertGolden(result);
        }

        Assert.Equal(new HashSet<string> { "near", "far" }, seen);

        // A rule sends a batch of 8 to the remote, whatever the weights, in either encoding.
        var eight = GoldenCase.Load("ctr-ranker", "batch8");
        foreach (var (body, type) in new[] { (eight.Request.ToJson(), Wire.Json), (eight.Request.ToMsgPack(), Wire.MsgPack) })
        {
            for (int i = 0; i < 4; i++)
            {
                using var response = await client.PostAsync("/v2/models/rank/infer", ServerFixture.Body(body, type));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("far", response.Headers.GetValues("X-LowLatency-Backend").Single());
                byte[] bytes = await response.Content.ReadAsByteArrayAsync();
                var result = type == Wire.Json ? Wire.ParseJson(bytes) : Wire.ParseMsgPack(bytes);
                Assert.Equal("ctr-ranker", result.ModelName);
                Wire.AssertClose(eight.Expected[0], result.Outputs.Single(o => o.Name == eight.Expected[0].Name));
            }
        }
        // The latency average moves on the weight ticks (50 ms here, later on a busy machine).
        var far = await BackendRowAsync(client, "far");
        for (var by = DateTime.UtcNow.AddSeconds(5); far.GetProperty("latency_us").GetDouble() == 0 && DateTime.UtcNow < by; far = await BackendRowAsync(client, "far"))
        {
            await Task.Delay(50);
        }

        Assert.Equal(remote.Address.AbsoluteUri, far.GetProperty("url").GetString());
        Assert.True(far.GetProperty("answers").GetInt64() >= 10);
        Assert.Equal(0, far.GetProperty("errors").GetInt64());
        Assert.True(far.GetProperty("latency_us").GetDouble() > 0);
    }

    [Fact]
    public async Task A_remote_backend_is_called_with_its_configured_credentials_and_never_with_the_client_s()
    {
        // The remote: a server that answers only its API key's holder.
        const string Key = "key-of-the-ranking-gateway";
        string[] protectedArgs = ["--LowLatency:Auth:ApiKeys:0:Key=" + Key, "--LowLatency:Auth:ApiKeys:0:Subject=gateway", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:ctr-ranker"];
        var (remoteApp, remoteAddress) = await ServerFixture.StartAsync(RepoPaths.Models, protectedArgs);
        await using var __ = remoteApp;
        using (var remoteClient = new HttpClient { BaseAddress = remoteAddress })
        {
            await ServerFixture.WaitReadyAsync(remoteClient);
        }

        // And a scripted one that shows what it was sent.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string? Key, string? Authorization)>();
        await using var stub = await StubHttpServer.StartAsync(async (ctx, n) =>
        {
            seen.Enqueue((ctx.Request.Headers["X-Api-Key"].FirstOrDefault(), ctx.Request.Headers.Authorization.FirstOrDefault()));
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"model_name":"stub","model_version":"1","outputs":[{"name":"probability","datatype":"FP32","shape":[1,1],"data":[0.25]}]}""");
        });

        Environment.SetEnvironmentVariable("LOWLATENCY_TEST_REMOTE_KEY", Key);
        Environment.SetEnvironmentVariable("LOWLATENCY_TEST_REMOTE_TOKEN", "a.bearer.token");
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": {
                "keyed": { "backends": [ { "name": "far", "url": "{{remoteAddress}}", "model": "ctr-ranker", "weight": 1, "api_key": "${LOWLATENCY_TEST_REMOTE_KEY}" } ] },
                "keyless": { "backends": [ { "name": "far", "url": "{{remoteAddress}}", "model": "ctr-ranker", "weight": 1 } ] },
                "scripted": { "backends": [ { "name": "stub", "url": "{{stub.Address}}", "model": "m", "weight": 1, "api_key": "${LOWLATENCY_TEST_REMOTE_KEY}", "bearer_token": "${LOWLATENCY_TEST_REMOTE_TOKEN}" } ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        foreach (bool msgpack in new[] { false, true })
        {
            var (status, backend, result) = await InferAsync(client, "keyed", msgpack: msgpack);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("far", backend);
            AssertGolden(result!);
        }

        // Without a configured key the remote refuses, even when the client's own request carries one:
        // a client's credentials are this server's to check, not to pass on.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/keyless/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) })
        {
            request.Headers.Add("X-Api-Key", Key);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/scripted/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) })
        {
            request.Headers.Add("X-Api-Key", "the-client-s-own-key");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (sentKey, sentAuthorization) = Assert.Single(seen);
        Assert.Equal(Key, sentKey);
        Assert.Equal("Bearer a.bearer.token", sentAuthorization);
    }

    [Fact]
    public async Task An_attempt_still_running_after_the_hedge_delay_is_hedged_on_another_remote_and_the_first_answer_wins()
    {
        // "slow" answers after 800 ms, within its timeout: without a hedge its answer would be the one.
        await using var slow = await StubHttpServer.StartAsync(async (ctx, n) =>
        {
            await Task.Delay(800);
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"model_name":"slow","model_version":"1","outputs":[{"name":"probability","datatype":"FP32","shape":[1,1],"data":[0.5]}]}""");
        });
        await using var fast = await StubHttpServer.StartAsync(async (ctx, n) =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"model_name":"fast","model_version":"1","outputs":[{"name":"probability","datatype":"FP32","shape":[1,1],"data":[0.25]}]}""");
        });

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": {
                "hedged": { "hedge_after_milliseconds": 50, "weights": {{Fast}}, "backends": [
                    { "name": "slow", "url": "{{slow.Address}}", "model": "m", "weight": 1, "timeout_milliseconds": 1500 },
                    { "name": "fast", "url": "{{fast.Address}}", "model": "m", "weight": 1 } ] },
                "stateful": { "hedge_after_milliseconds": 50, "weights": {{Fast}}, "backends": [
                    { "name": "slow", "url": "{{slow.Address}}", "model": "m", "weight": 1, "timeout_milliseconds": 1500, "idempotent": false },
                    { "name": "fast", "url": "{{fast.Address}}", "model": "m", "weight": 1 } ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        for (int i = 0; i < 3; i++)
        {
            var (status, backend, result) = await InferAsync(client, "hedged", preference: "slow");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("fast", backend);
            Assert.Equal("fast", result!.ModelName);
        }

        // Each hedged request reached both; the lost attempts are not the slow backend's errors.
        Assert.Equal(3, slow.Requests);
        Assert.Equal(3, fast.Requests);
        using (var table = JsonDocument.Parse(await client.GetStringAsync("/v2/gateway/hedged")))
        {
            var row = table.RootElement.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("name").GetString() == "slow");
            Assert.Equal(0, row.GetProperty("errors").GetInt64());
        }

        // A first attempt that answers within the delay is not hedged.
        var quick = await InferAsync(client, "hedged", preference: "fast");
        Assert.Equal("fast", quick.Result!.ModelName);
        Assert.Equal(3, slow.Requests);

        // A backend that is not idempotent is never hedged: its own answer, however late.
        var once = await InferAsync(client, "stateful", preference: "slow");
        Assert.Equal(HttpStatusCode.OK, once.Status);
        Assert.Equal("slow", once.Result!.ModelName);
        Assert.Equal(4, fast.Requests);
    }

    [Fact]
    public async Task The_routing_key_and_trace_context_reach_the_backend_and_a_backend_past_its_timeout_is_retried_on_another()
    {
        var stalled = new TaskCompletionSource();
        int stalledAnswered = 0;
        await using var stub = await StubHttpServer.StartAsync(async (ctx, n) =>
        {
            if (n > 1)
            {
                // From the second request on, the backend answers only when the test lets it.
                await Task.WhenAny(stalled.Task, Task.Delay(30_000));
                Interlocked.Exchange(ref stalledAnswered, 1);
            }

            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"model_name":"stub","model_version":"7","outputs":[{"name":"probability","datatype":"FP32","shape":[1,1],"data":[0.25]}]}""");
        });

        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        WriteAliases(repo.Root, $$"""{ "name": "stub", "url": "{{stub.Address}}", "model": "ranker", "version": 7, "weight": 1, "timeout_milliseconds": 1500 }, { "name": "near", "model": "ctr-a", "weight": 1 }""", extra: """, "deadline_milliseconds": 20000""");
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        const string Trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var first = await InferAsync(client, "rank", preference: "stub", routingKey: "user-42", traceparent: Trace);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("stub", first.Backend);
        Assert.Equal("stub", first.Result!.ModelName);
        Assert.Equal("7", first.Result.ModelVersion);
        Assert.True(stub.Received.TryDequeue(out var received));
        Assert.Equal("/v2/models/ranker/versions/7/infer", received.Path);
        Assert.Equal("user-42", received.Headers["X-Routing-Key"].ToString());
        Assert.Equal(Trace, received.Headers["traceparent"].ToString());
        Assert.Equal(Golden.Request.ToJson(), received.Body);

        // Stalled past its timeout: retried once, on the local backend, without waiting for the stalled
        // answer. The timeout (1.5 s) is long enough for a first call on a slow, busy host and far
        // shorter than the alias's deadline (20 s), which a backend without its own timeout would run to.
        var started = DateTime.UtcNow;
        var second = await InferAsync(client, "rank", preference: "stub");
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal("near", second.Backend);
        Assert.Equal("ctr-a", second.Result!.ModelName);
        Assert.Equal(0, Volatile.Read(ref stalledAnswered));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), $"took {DateTime.UtcNow - started}: the backend's timeout was not applied");
        var row = await BackendRowAsync(client, "stub");
        Assert.Equal(1, row.GetProperty("errors").GetInt64());
        stalled.SetResult();
    }

    [Fact]
    public async Task A_backend_that_is_not_idempotent_is_not_asked_twice_nor_replaced_once_it_may_have_run()
    {
        await using var stub = await StubHttpServer.StartAsync(async (ctx, _) => await Task.Delay(2000));
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        WriteAliases(repo.Root, $$"""{ "name": "stateful", "url": "{{stub.Address}}", "model": "session", "weight": 1, "timeout_milliseconds": 200, "idempotent": false }, { "name": "near", "model": "ctr-a", "weight": 1 }""");
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        // Past its timeout it may have run: 503 naming why, no second attempt anywhere.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/rank/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) };
        request.Headers.Add("X-Model-Preference", "stateful");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("not retried (the backend is not idempotent)", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        Assert.Equal(1, stub.Requests);
        Assert.Equal(0, (await BackendRowAsync(client, "near")).GetProperty("answers").GetInt64());
    }

    [Fact]
    public async Task A_remote_backend_killed_under_load_costs_no_request_while_a_local_one_can_answer()
    {
        var remote = ServerProcess.Start(["--Logging:LogLevel:Default=Warning"]);
        try
        {
            using var remoteClient = new HttpClient { BaseAddress = remote.Address };
            await remote.WaitReadyAsync(remoteClient);

            using var repo = new CtrRepository(name: "ctr-a", versions: 1);
            WriteAliases(repo.Root, $$"""{ "name": "far", "url": "{{remote.Address}}", "model": "ctr-ranker", "weight": 3 }, { "name": "near", "model": "ctr-a", "weight": 1 }""");
            var (app, address) = await ServerFixture.StartAsync(repo.Root);
            await using var _ = app;
            using var client = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(client);

            var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
            var backends = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
            var stopAt = DateTime.UtcNow.AddSeconds(4);
            var killAt = DateTime.UtcNow.AddSeconds(1.5);
            var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (DateTime.UtcNow < stopAt)
                {
                    var (status, backend, _) = await InferAsync(client, "rank");
                    statuses.Add(status);
                    backends.AddOrUpdate(backend ?? "none", 1, (_, n) => n + 1);
                }
            })).ToList();

            await Task.Delay(killAt - DateTime.UtcNow);
            remote.Process.Kill(entireProcessTree: true);
            await Task.WhenAll(load);

            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
            Assert.True(backends.GetValueOrDefault("far") > 0, "the remote answered before it was killed");
            Assert.True(backends.GetValueOrDefault("near") > 0);
            var far = await BackendRowAsync(client, "far");
            Assert.True(far.GetProperty("errors").GetInt64() > 0);
            Assert.NotEqual("closed", far.GetProperty("state").GetString());
        }
        finally
        {
            remote.Dispose();
        }
    }

    [Fact]
    public async Task Weights_move_away_from_a_remote_backend_made_slow_and_back_after_it_recovers()
    {
        // The remote: a second server on loopback serving two copies of the model, each version's
        // runner wrapped so that the test can slow it.
        var faults = new FaultInjector();
        using var remoteRepo = new CtrRepository(name: "ctr-a", versions: 1);
        remoteRepo.AddCopy("ctr-b");
        var (remoteApp, remoteAddress) = await ServerFixture.StartAsync(remoteRepo.Root, configureEngine: o => o.Services = new EngineServices(LowLatency.Engine.Time.SystemClock.Instance, new LowLatency.Engine.Routing.RoutingEpoch(), faults.Wrap));
        await using var __ = remoteApp;
        using (var remoteClient = new HttpClient { BaseAddress = remoteAddress })
        {
            await ServerFixture.WaitReadyAsync(remoteClient);
        }

        using var repo = new CtrRepository(name: "ctr-local", versions: 1);
        WriteAliases(repo.Root, $$"""{ "name": "a", "url": "{{remoteAddress}}", "model": "ctr-a", "weight": 1 }, { "name": "b", "url": "{{remoteAddress}}", "model": "ctr-b", "weight": 1 }""");
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        // Four clients keep both backends busy throughout.
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if ((await InferAsync(client, "rank")).Status != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();

        try
        {
            faults.Slow(1, TimeSpan.FromMilliseconds(40), model: "ctr-b");
            // Stated bound: within 5 s of the slow-down its weight is at most a quarter of its base.
            var movedAway = await UntilAsync(async () => (await BackendRowAsync(client, "b")).GetProperty("weight").GetDouble() <= 0.25, TimeSpan.FromSeconds(5));
            Assert.True(movedAway, "b kept its weight: " + await client.GetStringAsync("/v2/gateway/rank"));
            Assert.InRange((await BackendRowAsync(client, "a")).GetProperty("weight").GetDouble(), 0.9, 1);

            faults.Heal(1, model: "ctr-b");
            // Stated bound: within 5 s of the recovery it is back to at least 0.9 of its base.
            var movedBack = await UntilAsync(async () => (await BackendRowAsync(client, "b")).GetProperty("weight").GetDouble() >= 0.9, TimeSpan.FromSeconds(5));
            Assert.True(movedBack, "b did not win its weight back: " + await client.GetStringAsync("/v2/gateway/rank"));
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(load);
        }

        Assert.Equal(0, failures);
    }

    /// <summary>True once <paramref name="condition"/> holds, checked every 50 ms; false if it did not within <paramref name="timeout"/>.</summary>
    private static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static async Task<JsonElement> BackendRowAsync(HttpClient client, string backend)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v2/gateway/rank"));
        foreach (var row in doc.RootElement.GetProperty("backends").EnumerateArray())
        {
            if (row.GetProperty("name").GetString() == backend)
            {
                return row.Clone();
            }
        }

        throw new InvalidOperationException("no backend " + backend);
    }
}
