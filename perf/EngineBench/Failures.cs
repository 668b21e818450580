using LowLatency.Engine.Requests;
using LowLatency.Engine.Time;

/// <summary>Requests that failed in a run: how many, and the first one's error with its timing.</summary>
internal sealed class Failures
{
    private int _count;
    private string? _first;

    public int Count => Volatile.Read(ref _count);

    public string? First => Volatile.Read(ref _first);

    public void Add(InferenceRequest r)
    {
        Interlocked.Increment(ref _count);
        Interlocked.CompareExchange(ref _first, $"{r.Status}: {r.Error} (arrived at {r.ArrivalUs} us, seen failed at {MonotonicClock.NowMicroseconds()} us)", null);
    }
}
