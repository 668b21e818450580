using System.Diagnostics;
using System.Net.Http.Headers;

namespace LowLatency.LoadGen;

/// <summary>When warm-up ends and when the run ends; the end moves when the run waits for stability.</summary>
internal sealed class RunClock(long warmupEnd, long end)
{
    private long _end = end;

    public long WarmupEnd { get; } = warmupEnd;

    public long End => Volatile.Read(ref _end);

    public void ExtendTo(long end) => Volatile.Write(ref _end, end);
}
