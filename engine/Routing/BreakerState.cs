namespace LowLatency.Engine.Routing;

/// <summary>A version's circuit: closed (routed to), open (ejected), half-open (probed with a small share).</summary>
public enum BreakerState
{
    Closed,
    HalfOpen,
    Open,
}
