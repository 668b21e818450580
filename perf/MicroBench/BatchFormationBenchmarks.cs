using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;

namespace LowLatency.MicroBench;

/// <summary>
/// The scheduling step without threads: admit 16 ctr-ranker requests (priority level, timers,
/// admission control) and form them into a batch, on a fake clock. Per request, including putting
/// the request back in shape for the next round (what the pool does).
/// </summary>
public class BatchFormationBenchmarks
{
    private const int Requests = 16;
    private readonly InferenceRequest[] _requests = new InferenceRequest[Requests];
    private readonly InferenceRequest[] _batch = new InferenceRequest[64];
    private ModelConfig _config = null!;
    private SchedulerState _scheduler = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _config = Repo.Config("ctr-ranker");
        var estimator = new ComputeEstimator(_config.MaxBatchSize);
        _scheduler = new SchedulerState(_config, _config.Qos, estimator, workers: 1, nowUs: 0);
        for (int i = 0; i < Requests; i++)
        {
            _requests[i] = new InferenceRequest(_config);
            Repo.RentCtrRow(_requests[i]);
        }
    }

    [Benchmark(OperationsPerInvoke = Requests)]
    [AllocationBudget(0, "intrusive queues and timers, pooled requests")]
    public int AdmitAndForm()
    {
        _now += 1000;
        _scheduler.WorkersFreeAtUs = _now;
        for (int i = 0; i < Requests; i++)
        {
            var r = _requests[i];
            r.ArrivalUs = _now;
            r.TimeoutMicroseconds = 50_000;
            _scheduler.Admit(r, _now);
        }

        _scheduler.AdvanceTimers(_now);
        var decision = _scheduler.TryTakeBatch(_now, _now, _batch);
        for (int i = 0; i < decision.Count; i++)
        {
            _batch[i].Dispose();
            Repo.RentCtrRow(_batch[i]);
            _batch[i] = null!;
        }

        return decision.Count;
    }
}
