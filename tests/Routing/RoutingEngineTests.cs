using System.Text.Json.Nodes;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Repository;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Routing;

/// <summary>
/// Traffic splits, routing keys, circuit breakers and fallbacks in a real engine (ctr-ranker as two
/// versions), with faults injected into a version's runner and time moved by hand.
/// </summary>
public sealed class RoutingEngineTests
{
    // Judged on errors alone: a latency budget here would let a stall of this shared machine (the
    // latencies are real time) eject the healthy version too; it failed so with both cores loaded.
    private const string Health = """{ "max_error_rate": 0.5, "window_seconds": 10, "min_requests": 20, "cooldown_seconds": 5, "probe_percent": 10, "probe_requests": 10 }""";

    // For the latency test: a budget far above what a healthy version takes even on a stalled host,
    // and a slowed version far above the budget.
    private const string LatencyHealth = """{ "max_error_rate": 0.5, "max_p99_latency_us": 100000, "window_seconds": 10, "min_requests": 20, "cooldown_seconds": 5, "probe_percent": 10, "probe_requests": 10 }""";

    private static (InferenceEngine Engine, FakeClock Clock, FaultInjector Faults) Start(string root, ModelControlMode mode = ModelControlMode.All)
    {
        var clock = new FakeClock();
        var faults = new FaultInjector();
        var options = new EngineOptions { ModelRepository = root, ModelControlMode = mode, Services = new EngineServices(clock, new RoutingEpoch(), faults.Wrap) };
        var engine = new InferenceEngine(options);
        engine.Scan();
        engine.Load();
        return (engine, clock, faults);
    }

    private static async Task<List<Sent>> SendAsync(InferenceEngine engine, string model, int n, FakeClock? clock = null)
    {
        var sent = new List<Sent>();
        for (int i = 0; i < n; i++)
        {
            sent.Add(await CtrRepository.SendAsync(engine, model));
            // Breakers judge at most every 100 ms of (fake) time.
            clock?.Advance(TimeSpan.FromMilliseconds(20));
        }

        return sent;
    }

    [Fact]
    public async Task A_ninety_ten_split_over_ten_thousand_requests_lands_within_two_percent_and_keys_keep_their_version()
    {
        using var repo = new CtrRepository(edit: c => c["traffic"] = JsonNode.Parse("""{ "1": 90, "2": 10 }"""));
        var (engine, _, _) = Start(repo.Root);
        using var _e = engine;
        var counts = new Dictionary<long, int> { [1] = 0, [2] = 0 };
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var mine = new Dictionary<long, int> { [1] = 0, [2] = 0 };
            for (int i = 0; i < 1250; i++)
            {
                var s = await CtrRepository.SendAsync(engine, repo.Name);
                Assert.Equal(InferenceStatus.Ok, s.Status);
                Assert.Equal(RouteKind.Split, s.Kind);
                Assert.Equal(CtrRepository.Expected, s.Value, 5);
                mine[s.Version!.Value]++;
            }

            return mine;
        })).ToList();
        foreach (var t in tasks)
        {
            foreach (var (v, n) in await t)
            {
                counts[v] += n;
            }
        }

        Assert.Equal(10_000, counts[1] + counts[2]);
        Assert.InRange(counts[1], 8_800, 9_200);

        // A key lands on one version, every time.
        for (int k = 0; k < 50; k++)
        {
            string key = "user-" + k;
            var first = await CtrRepository.SendAsync(engine, repo.Name, key);
            Assert.Equal(RouteKind.Key, first.Kind);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(first.Version, (await CtrRepository.SendAsync(engine, repo.Name, key)).Version);
            }
        }
    }

    [Fact]
    public async Task A_throwing_version_is_ejected_its_share_goes_to_the_healthy_one_then_it_is_probed_and_readmitted()
    {
        using var repo = new CtrRepository(edit: c =>
        {
            c["traffic"] = JsonNode.Parse("""{ "1": 50, "2": 50 }""");
            c["health"] = JsonNode.Parse(Health);
        });
        var (engine, clock, faults) = Start(repo.Root);
        using var _e = engine;
        Assert.True(engine.TryGetModel(repo.Name, out var served));
        var v2 = served.Versions[2];

        faults.Throw(2);
        var before = await SendAsync(engine, repo.Name, 60, clock);
        Assert.Contains(before, s => s.Version == 2 && s.Status == InferenceStatus.ModelError);
        Assert.Equal(BreakerState.Open, v2.Health.State);

        // Ejected: everything goes to version 1, and succeeds.
        var during = await SendAsync(engine, repo.Name, 100, clock);
        Assert.All(during, s => Assert.Equal((InferenceStatus.Ok, 1L), (s.Status, s.Version!.Value)));

        // After the cool-down: half-open, a probing share (10 % of its 50) reaches version 2 again.
        faults.Heal(2);
        clock.Advance(TimeSpan.FromSeconds(6));
        var probing = new List<Sent>();
        while (v2.Health.State != BreakerState.Closed && probing.Count < 1000)
        {
            probing.Add(await CtrRepository.SendAsync(engine, repo.Name));
        }

        Assert.All(probing, s => Assert.Equal(InferenceStatus.Ok, s.Status));
        int probes = probing.Count(s => s.Version == 2);
        // Readmitted after 10 healthy probes, which took about 10 / (10 % of 50 %) requests.
        Assert.Equal(10, probes);
        Assert.InRange(probing.Count, 100, 300);
        Assert.Equal(BreakerState.Closed, v2.Health.State);

        // Readmitted: back to 50/50.
        var after = await SendAsync(engine, repo.Name, 200);
        Assert.Equal(100, after.Count(s => s.Version == 2));
    }

    [Fact]
    public async Task A_version_over_its_latency_budget_is_ejected()
    {
        using var repo = new CtrRepository(edit: c =>
        {
            c["traffic"] = JsonNode.Parse("""{ "1": 50, "2": 50 }""");
            c["health"] = JsonNode.Parse(LatencyHealth);
            c["qos"] = JsonNode.Parse("""{ "balanced": { "deadline_microseconds": 0 } }""");
        });
        var (engine, clock, faults) = Start(repo.Root);
        using var _e = engine;
        Assert.True(engine.TryGetModel(repo.Name, out var served));
        faults.Slow(2, TimeSpan.FromMilliseconds(150));
        var sent = await SendAsync(engine, repo.Name, 60, clock);
        Assert.All(sent, s => Assert.Equal(InferenceStatus.Ok, s.Status));
        Assert.Equal(BreakerState.Open, served.Versions[2].Health.State);
        Assert.Contains("exceeds 100000 us", served.Versions[2].Health.Reason);
        Assert.Equal(BreakerState.Closed, served.Versions[1].Health.State);
    }

    [Fact]
    public async Task With_no_healthy_version_the_fixed_fallback_answers_flagged_degraded()
    {
        using var repo = new CtrRepository(versions: 1, edit: c =>
        {
            c["health"] = JsonNode.Parse(Health);
            c["fallback"] = JsonNode.Parse("""{ "outputs": [ { "name": "probability", "data": [0.25] } ] }""");
        });
        var (engine, clock, faults) = Start(repo.Root);
        using var _e = engine;
        faults.Throw(1);
        await SendAsync(engine, repo.Name, 40, clock);
        var fallback = await CtrRepository.SendAsync(engine, repo.Name);
        Assert.Equal((InferenceStatus.Ok, RouteKind.FallbackResponse, 0.25f), (fallback.Status, fallback.Kind, fallback.Value));
    }

    [Fact]
    public async Task With_no_healthy_version_a_fallback_model_answers_and_without_a_fallback_the_answer_is_503_at_once()
    {
        using var repo = new CtrRepository(versions: 1, edit: c =>
        {
            c["health"] = JsonNode.Parse(Health);
            c["fallback"] = JsonNode.Parse("""{ "model": "ctr-small" }""");
        });
        repo.AddCopy("ctr-small", c => c["health"] = JsonNode.Parse(Health));
        var (engine, clock, faults) = Start(repo.Root);
        using var _e = engine;
        faults.Throw(1);
        await SendAsync(engine, repo.Name, 40, clock);
        var viaOther = await CtrRepository.SendAsync(engine, repo.Name);
        Assert.Equal((InferenceStatus.Ok, RouteKind.FallbackModel, "ctr-small"), (viaOther.Status, viaOther.Kind, viaOther.Model));
        Assert.Equal(CtrRepository.Expected, viaOther.Value, 5);

        // The fallback model fails too: 503 with the reason, at once, no hang.
        faults.Throw(1, "ctr-small");
        await SendAsync(engine, "ctr-small", 40, clock);
        var none = await CtrRepository.SendAsync(engine, repo.Name);
        Assert.Equal(InferenceStatus.Unavailable, none.Status);
        Assert.Contains("no healthy version of model 'ctr-ranker'", none.Error);
        Assert.Contains("ctr-small", none.Error);

        // A version named in the URL is served even while ejected: an operator can still reach it.
        faults.Heal(1);
        var named = await CtrRepository.SendAsync(engine, repo.Name, version: "1");
        Assert.Equal((InferenceStatus.Ok, RouteKind.Version), (named.Status, named.Kind));
    }
}
