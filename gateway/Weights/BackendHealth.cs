namespace LowLatency.Gateway.Weights;

/// <summary>
/// What the timer knows of one backend between ticks: its state, its current weight, its latency
/// (EWMA of each tick's mean answer time) and its error rate over the window. Written by the timer
/// only; the request path reads none of it (it reads the published weight table).
/// </summary>
public sealed record BackendHealth(BackendState State, double Weight, double LatencyUs, double ErrorRate, long OpenUntilUs, double RecoveryCap)
{
    public static BackendHealth Start(int baseWeight) => new(BackendState.Closed, baseWeight, 0, 0, 0, 0);
}
