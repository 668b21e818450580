namespace LowLatency.Tests.Features;

/// <summary>A clock that moves only when told: wall time and monotonic timestamps together.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public ManualTime(DateTimeOffset start) => Start = start;

    public DateTimeOffset Start { get; }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => Start.AddTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
