namespace LowLatency.Engine.Routing;

/// <summary>
/// Counts breaker transitions engine-wide. A router compares it with the value its split was built
/// at: one volatile read per request, and a rebuild only after a transition.
/// </summary>
internal sealed class RoutingEpoch
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    internal void Bump() => Interlocked.Increment(ref _value);
}
