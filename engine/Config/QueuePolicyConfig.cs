namespace LowLatency.Engine.Config;

public sealed record QueuePolicyConfig(TimeoutAction TimeoutAction, long DefaultTimeoutMicroseconds, bool AllowTimeoutOverride, int MaxQueueSize)
{
    public static readonly QueuePolicyConfig Default = new(TimeoutAction.Reject, 0, false, 0);
}
