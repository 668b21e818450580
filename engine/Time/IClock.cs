namespace LowLatency.Engine.Time;

/// <summary>The time routing decisions are made against (µs); tests substitute a clock they move by hand.</summary>
internal interface IClock
{
    long NowMicroseconds { get; }
}
