namespace LowLatency.Gateway.Weights;

/// <summary>Where a backend stands with the weight computation (docs/gateway.md#dynamic-weights).</summary>
public enum BackendState
{
    /// <summary>Healthy: its weight follows its latency and error rate, between the floor and the base.</summary>
    Closed,

    /// <summary>Ejected: weight 0 until its cool-down ends.</summary>
    Open,

    /// <summary>Probed: the floor's weight, until enough answers say whether it is back.</summary>
    HalfOpen,

    /// <summary>Back from a probe: its weight may at most double each tick until it reaches what its measurements give.</summary>
    Recovering,
}
