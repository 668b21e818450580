using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>Which <see cref="IWaitStrategy"/> the engine's threads use (setting <c>LowLatency:WaitStrategy</c>).</summary>
public enum WaitStrategyKind
{
    /// <summary>Spin for <c>SpinMicroseconds</c>, then park: microsecond hand-offs under load, no burnt core when idle. The default.</summary>
    SpinThenPark,

    /// <summary>Never park: the lowest hand-off latency, at the price of one busy core per thread, always.</summary>
    Spin,

    /// <summary>Park at once: the least CPU, a futex wake-up (several µs) per hand-off.</summary>
    Park,
}
