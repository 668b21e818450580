using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Config;
using LowLatency.Gateway.Routing;

namespace LowLatency.MicroBench;

/// <summary>
/// The gateway's own cost for a local alias (issue 30's target: ≤ 2 µs at p50): routing a request
/// through an alias of one backend (the weighted choice, the engine's route to the backend, the
/// answer recorded for the weights) against the engine's route to the model directly.
/// </summary>
public class GatewayBenchmarks
{
    private InferenceEngine _engine = null!;
    private AliasRouter _alias = null!;

    [GlobalSetup]
    public void Setup()
    {
        _engine = new InferenceEngine(new EngineOptions { ModelRepository = Path.Combine(Repo.Root, "models"), ModelControlMode = ModelControlMode.Explicit, StartupModels = ["ctr-ranker"] });
        _engine.Scan();
        _engine.Load();
        _alias = new AliasRouter(new AliasDefinition("rank", [new BackendDefinition("ctr-ranker", "ctr-ranker", null, 1)], WeightPolicy.Default));
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    [Benchmark(Baseline = true)]
    [AllocationBudget(0, "the engine's route: a frozen dictionary lookup and a reference on the version")]
    public bool Direct()
    {
        bool ok = _engine.Route("ctr-ranker", null, null, out var routed, out _) == InferenceStatus.Ok;
        routed.Release();
        return ok;
    }

    [Benchmark]
    [AllocationBudget(0, "the alias's choice: an interlocked counter over cumulative weights, then the backend's route; its answer counted")]
    public bool Alias()
    {
        bool ok = _alias.Route(_engine, null, default, out var routed, out var call, out _) == InferenceStatus.Ok;
        call.Finish(true);
        routed.Release();
        return ok;
    }
}
