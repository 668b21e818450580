using BenchmarkDotNet.Attributes;
using LowLatency.Engine.Time;

namespace LowLatency.MicroBench;

/// <summary>The scheduler's deadlines: each request inserts two timers and almost always cancels them.</summary>
public class TimerWheelBenchmarks
{
    private const int Timers = 64;
    private readonly TimerNode[] _nodes = new TimerNode[Timers];
    private TimerWheel _wheel = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _wheel = new TimerWheel();
        for (int i = 0; i < Timers; i++)
        {
            _nodes[i] = new TimerNode();
        }
    }

    [Benchmark(OperationsPerInvoke = Timers)]
    [AllocationBudget(0, "intrusive nodes: the wheel allocates nothing")]
    public int InsertCancel()
    {
        // Windows and timeouts from 100 µs to 100 ms: spread over the wheel's levels.
        for (int i = 0; i < Timers; i++)
        {
            _wheel.Schedule(_nodes[i], _now + 100 + (i * 1571));
        }

        for (int i = 0; i < Timers; i++)
        {
            _wheel.Cancel(_nodes[i]);
        }

        return _wheel.Count;
    }

    [Benchmark(OperationsPerInvoke = Timers)]
    [AllocationBudget(0, "intrusive nodes; the callback is a struct")]
    public int InsertAdvance()
    {
        for (int i = 0; i < Timers; i++)
        {
            _wheel.Schedule(_nodes[i], _now + 1 + (i * 7));
        }

        var fired = default(Counter);
        _now += Timers * 7;
        _wheel.Advance(_now, ref fired);
        return fired.Count;
    }

    private struct Counter : ITimerCallback
    {
        public int Count;

        public void OnExpired(TimerNode node) => Count++;
    }
}
