namespace LowLatency.Engine.Config;

public enum TimeoutAction
{
    Reject,
    Delay,
}
