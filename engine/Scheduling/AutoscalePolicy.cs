using System.Globalization;
using LowLatency.Engine.Config;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The autoscaler's rule, a pure function of what one window showed (no clock, no state of its own),
/// tested with made-up observations. In order: back within the bounds first; then nothing during
/// the cool-down after a change or over a window shorter than configured; then add one instance
/// while the mean queue delay is over the target, the workers were busy (idle no more than the
/// configured share: a delay while they sat idle is not for want of an instance, and another would
/// sit idle too) and a core is free; remove one while the workers
/// sat idle more than the configured share and the queue delay is under half the target (the gap
/// keeps it from adding and removing in turn around the target), unless the delay was over the
/// target within the scale-down stabilisation time; else hold.
/// </summary>
public static class AutoscalePolicy
{
    public static AutoscaleDecision Decide(AutoscaleObservation o, AutoscaleConfig c)
    {
        if (o.Instances < c.MinInstances)
        {
            return new(AutoscaleAction.Add, $"{o.Instances} instances, fewer than min_instances {c.MinInstances}");
        }

        if (o.Instances > c.MaxInstances)
        {
            return new(AutoscaleAction.Remove, $"{o.Instances} instances, more than max_instances {c.MaxInstances}");
        }

        long cooldownUs = (long)(c.CooldownSeconds * 1_000_000);
        if (o.LastChangeUs != long.MinValue && o.NowUs - o.LastChangeUs < cooldownUs)
        {
            return new(AutoscaleAction.Hold, $"cooling down: {Ms(o.NowUs - o.LastChangeUs)} ms since the last change, {Ms(cooldownUs)} ms needed");
        }

        long windowUs = (long)(c.WindowSeconds * 1_000_000);
        if (o.WindowUs < windowUs)
        {
            return new(AutoscaleAction.Hold, $"window not full: {Ms(o.WindowUs)} of {Ms(windowUs)} ms observed");
        }

        string seen = $"mean queue delay {o.MeanQueueDelayUs.ToString("0", CultureInfo.InvariantCulture)} µs over {o.Requests} requests (target {c.TargetQueueDelayMicroseconds} µs), workers idle {(o.IdleFraction * 100).ToString("0", CultureInfo.InvariantCulture)}%";
        if (o.Requests > 0 && o.MeanQueueDelayUs > c.TargetQueueDelayMicroseconds)
        {
            if (o.Instances >= c.MaxInstances)
            {
                return new(AutoscaleAction.Hold, $"{seen}; already at max_instances {c.MaxInstances}");
            }

            if (o.IdleFraction * 100 > c.IdlePercent)
            {
                return new(AutoscaleAction.Hold, $"{seen}; the workers sat idle more than idle_percent {c.IdlePercent}%: the delay is not for want of an instance");
            }

            return o.FreeCores < 1
                ? new(AutoscaleAction.Hold, $"{seen}; no free core for another instance")
                : new(AutoscaleAction.Add, seen);
        }

        if (o.IdleFraction * 100 > c.IdlePercent && o.MeanQueueDelayUs < c.TargetQueueDelayMicroseconds / 2.0 && o.Instances > c.MinInstances)
        {
            long stabilizationUs = (long)(c.ScaleDownStabilizationSeconds * 1_000_000);
            if (o.LastOverTargetUs != long.MinValue && o.NowUs - o.LastOverTargetUs < stabilizationUs)
            {
                return new(AutoscaleAction.Hold, $"{seen}; the queue delay was over the target {Ms(o.NowUs - o.LastOverTargetUs)} ms ago, removing waits {Ms(stabilizationUs)} ms (scale_down_stabilization_seconds)");
            }

            return new(AutoscaleAction.Remove, $"{seen}, more than idle_percent {c.IdlePercent}%");
        }

        return new(AutoscaleAction.Hold, seen);
    }

    private static string Ms(long us) => (us / 1000).ToString(CultureInfo.InvariantCulture);
}
