namespace LowLatency.Engine.Config;

/// <summary>
/// This server's <c>autoscale</c> extension field: a driver adds an instance while the queue delay
/// over a window exceeds the target and a core is free, and removes one while the workers sit
/// mostly idle, within the bounds and never sooner than the cool-down after its last change.
/// Absent: off, the count stays what <c>instance_group</c> or <c>PUT .../instances</c> set.
/// </summary>
/// <param name="MinInstances">The fewest instances it removes down to (1 … 64).</param>
/// <param name="MaxInstances">The most instances it adds up to (min … 64).</param>
/// <param name="TargetQueueDelayMicroseconds">The mean queue delay over a window above which an instance is added.</param>
/// <param name="WindowSeconds">How long each observation runs before a decision.</param>
/// <param name="CooldownSeconds">The least time between two changes.</param>
/// <param name="IdlePercent">The share of the workers' time idle over a window above which one is removed (with the queue delay under half the target).</param>
/// <param name="ScaleDownStabilizationSeconds">
/// How long after the queue delay was last over the target no instance is removed (as Kubernetes'
/// HPA stabilises scale-down): right after an add the queue is short because of that add, and removing
/// then would add and remove in turn for as long as the load lasts.
/// </param>
public sealed record AutoscaleConfig(int MinInstances, int MaxInstances, long TargetQueueDelayMicroseconds, double WindowSeconds, double CooldownSeconds, int IdlePercent, double ScaleDownStabilizationSeconds = AutoscaleConfig.DefaultStabilizationSeconds)
{
    public const int DefaultIdlePercent = 50;

    public const double DefaultStabilizationSeconds = 30;
}
