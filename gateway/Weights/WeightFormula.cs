using LowLatency.Gateway.Config;

namespace LowLatency.Gateway.Weights;

/// <summary>
/// One tick of one backend's weight: a pure function of what it was, what the tick measured and
/// the time now, so that tests drive it with a clock of their own (docs/gateway.md#dynamic-weights).
/// <code>
///   error factor   = 1 - error rate / eject rate       (1 while the window holds fewer than min_requests answers)
///   latency factor = min(1, tolerance × fastest latency / own latency)
///   weight         = base × clamp(error factor × latency factor, floor, 1)
/// </code>
/// An error rate at the eject rate ejects the backend (weight 0) for the cool-down; then it is
/// probed at the floor's weight (half-open), and once <c>probe_requests</c> answers come back under
/// the eject rate its weight may double each tick up to what the formula gives (recovering), then
/// it is closed again.
/// </summary>
public static class WeightFormula
{
    /// <summary>The share of a tick's mean answer time in the latency average.</summary>
    public const double LatencyAlpha = 0.3;

    /// <summary>A probed backend's weight when the floor is 0: some traffic must reach it to tell.</summary>
    private const double MinProbeShare = 0.01;

    /// <summary>The backend's next state; <paramref name="clearWindow"/>: its window is to be forgotten (a probe starts).</summary>
    public static BackendHealth Next(WeightPolicy policy, int baseWeight, BackendHealth prev, WindowTotals tick, double fastestLatencyUs, long nowUs, out bool clearWindow)
    {
        clearWindow = false;
        double latency = prev.LatencyUs;
        if (tick.TickRequests > 0)
        {
            double mean = (double)tick.TickLatencyUs / tick.TickRequests;
            latency = latency == 0 ? mean : (LatencyAlpha * mean) + ((1 - LatencyAlpha) * latency);
        }

        double errorRate = tick.WindowRequests > 0 ? (double)tick.WindowErrors / tick.WindowRequests : 0;
        double probe = baseWeight * Math.Max(policy.FloorPercent / 100, MinProbeShare);
        switch (prev.State)
        {
            case BackendState.Open:
                if (nowUs < prev.OpenUntilUs)
                {
                    return prev with { LatencyUs = latency, ErrorRate = errorRate };
                }

                clearWindow = true;
                return new BackendHealth(BackendState.HalfOpen, probe, latency, 0, 0, 0);

            case BackendState.HalfOpen:
                if (tick.WindowErrors > 0 && errorRate >= policy.EjectErrorRate)
                {
                    clearWindow = true;
                    return Eject(policy, latency, errorRate, nowUs);
                }

                if (tick.WindowRequests < policy.ProbeRequests)
                {
                    return prev with { LatencyUs = latency, ErrorRate = errorRate };
                }

                double cap = 2 * probe;
                return new BackendHealth(BackendState.Recovering, Math.Min(cap, Computed(policy, baseWeight, latency, errorRate, tick.WindowRequests, fastestLatencyUs)), latency, errorRate, 0, cap);

            default:
                if (tick.WindowRequests >= policy.MinRequests && errorRate >= policy.EjectErrorRate)
                {
                    clearWindow = true;
                    return Eject(policy, latency, errorRate, nowUs);
                }

                double weight = Computed(policy, baseWeight, latency, errorRate, tick.WindowRequests, fastestLatencyUs);
                if (prev.State == BackendState.Recovering)
                {
                    double grown = Math.Min(baseWeight, prev.RecoveryCap * 2);
                    return new BackendHealth(grown >= baseWeight ? BackendState.Closed : BackendState.Recovering, Math.Min(grown, weight), latency, errorRate, 0, grown);
                }

                return new BackendHealth(BackendState.Closed, weight, latency, errorRate, 0, 0);
        }
    }

    /// <summary>The weight of a healthy backend: between the floor and the base.</summary>
    public static double Computed(WeightPolicy policy, int baseWeight, double latencyUs, double errorRate, long windowRequests, double fastestLatencyUs)
    {
        double errorFactor = windowRequests >= policy.MinRequests ? Math.Max(0, 1 - (errorRate / policy.EjectErrorRate)) : 1;
        double latencyFactor = latencyUs > 0 && fastestLatencyUs > 0 ? Math.Min(1, policy.LatencyTolerance * fastestLatencyUs / latencyUs) : 1;
        return baseWeight * Math.Clamp(errorFactor * latencyFactor, policy.FloorPercent / 100, 1);
    }

    private static BackendHealth Eject(WeightPolicy policy, double latency, double errorRate, long nowUs) =>
        new(BackendState.Open, 0, latency, errorRate, nowUs + policy.CooldownMicroseconds, 0);
}
