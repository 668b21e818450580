using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Execution;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Scheduling;
using LowLatency.Engine.Time;

namespace LowLatency.MicroBench;

/// <summary>
/// The engine path without a model: submit → scheduling step → device worker → completion through
/// the thread pool (or handed to the polling submitter), with a runner that does nothing, so what
/// is timed and counted is the engine's own hand-offs (the budget of 0 B per request on the engine
/// path). The model's own cost, and TorchSharp's allocations, are in <see cref="ExecutorBenchmarks"/>.
/// </summary>
public class HandoffBenchmarks
{
    private const int Burst = 16;
    private readonly InferenceRequest[] _requests = new InferenceRequest[Burst];
    private readonly ValueTask<bool>[] _done = new ValueTask<bool>[Burst];
    private SchedulerThread<SpinThenParkWaitStrategy> _scheduler = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The workers set libtorch's per-thread state (inference mode, intra-op threads) when they start.
        TorchRuntime.Initialize(1);
        var config = Repo.Config("ctr-ranker");
        var threading = new EngineThreading(WaitStrategyKind.SpinThenPark, 50, [], 1);
        _scheduler = new SchedulerThread<SpinThenParkWaitStrategy>(config, 1, () => new NoModel(), new ComputeEstimator(config.MaxBatchSize), config.Qos, threading, new SpinThenParkWaitStrategy(50));
        for (int i = 0; i < Burst; i++)
        {
            _requests[i] = new InferenceRequest(config);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scheduler.Stop();
        _scheduler.Dispose();
    }

    [Benchmark]
    [AllocationBudget(0, "pooled request, IValueTaskSource completion, intrusive queues: nothing per request")]
    public bool OneRequest()
    {
        var r = _requests[0];
        Repo.RentCtrRow(r);
        var done = r.Completion;
        _scheduler.Submit(r);
        return Await(r, done);
    }

    [Benchmark]
    [AllocationBudget(0, "the submitter polls for its answer (AnswerPolling): handed over with a CAS, published on the submitting thread")]
    public bool OneRequestPolled()
    {
        var r = _requests[0];
        Repo.RentCtrRow(r);
        var done = r.Completion;
        r.BeginPolling();
        _scheduler.Submit(r);
        r.PollUntil(MonotonicClock.NowMicroseconds() + 1_000_000);
        return Await(r, done);
    }

    [Benchmark]
    [AllocationBudget(0, "a request cancelled before its intake: a CAS, a push onto the intrusive cancel list, answered at intake with a message made once")]
    public bool OneRequestCancelled()
    {
        var r = _requests[0];
        Repo.RentCtrRow(r);
        var done = r.Completion;
        // The request has no model version behind it: Cancel marks it, and the scheduler is told
        // as its version would tell it.
        r.Cancel();
        _scheduler.Cancel(r);
        _scheduler.Submit(r);
        return !Await(r, done, InferenceStatus.Cancelled);
    }

    [Benchmark(OperationsPerInvoke = Burst)]
    [AllocationBudget(0, "batches of several complete through one pooled work item: nothing per request")]
    public int BurstOf16()
    {
        int ok = 0;
        for (int i = 0; i < Burst; i++)
        {
            Repo.RentCtrRow(_requests[i]);
            _done[i] = _requests[i].Completion;
            _scheduler.Submit(_requests[i]);
        }

        for (int i = 0; i < Burst; i++)
        {
            ok += Await(_requests[i], _done[i]) ? 1 : 0;
        }

        return ok;
    }

    private static bool Await(InferenceRequest r, ValueTask<bool> done, InferenceStatus expected = InferenceStatus.Ok)
    {
        // Polling, not await: the benchmark thread must not allocate a continuation either.
        var spin = default(SpinWait);
        while (!done.IsCompleted)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }

        bool ok = done.GetAwaiter().GetResult();
        if (r.Status != expected)
        {
            // Another outcome would measure another path: stop the run instead.
            throw new InvalidOperationException($"request ended {r.Status}, not {expected}: {r.Error}");
        }

        r.Dispose();
        return ok;
    }

    private sealed class NoModel : IBatchRunner
    {
        public void Execute(ReadOnlySpan<InferenceRequest> batch)
        {
        }

        public void Dispose()
        {
        }
    }
}
