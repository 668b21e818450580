using LowLatency.Engine.Time;

namespace LowLatency.Tests.Routing;

/// <summary>A clock the test moves by hand.</summary>
public sealed class FakeClock : IClock
{
    private long _now = 1_000_000_000;

    public long NowMicroseconds => Volatile.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)by.TotalMicroseconds);
}
