using System.Diagnostics;

namespace LowLatency.Engine.Time;

/// <summary>Microseconds from the monotonic clock (Stopwatch): the unit of every engine timestamp and deadline.</summary>
internal static class MonotonicClock
{
    // Linux's Stopwatch counts nanoseconds: divide exactly; elsewhere scale in floating point.
    private static readonly long Divisor = Stopwatch.Frequency % 1_000_000 == 0 ? Stopwatch.Frequency / 1_000_000 : 0;
    private static readonly double Scale = 1_000_000.0 / Stopwatch.Frequency;

    public static long NowMicroseconds() => ToMicroseconds(Stopwatch.GetTimestamp());

    public static long ToMicroseconds(long timestamp) => Divisor != 0 ? timestamp / Divisor : (long)(timestamp * Scale);

    /// <summary>Stopwatch ticks for a span of microseconds.</summary>
    public static long ToTimestampDelta(long microseconds) => Divisor != 0 ? microseconds * Divisor : (long)(microseconds / Scale);
}
