namespace LowLatency.Engine.Routing;

/// <summary>The time routing decisions are made against (µs); tests substitute a clock they move by hand.</summary>
public interface IClock
{
    long NowMicroseconds { get; }
}

/// <summary>The monotonic clock the engine's timestamps come from.</summary>
public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    public long NowMicroseconds => Scheduling.MonotonicClock.NowMicroseconds();
}
