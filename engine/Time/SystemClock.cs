namespace LowLatency.Engine.Time;

/// <summary>The monotonic clock the engine's timestamps come from.</summary>
internal sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    public long NowMicroseconds => MonotonicClock.NowMicroseconds();
}
