namespace LowLatency.Engine.Time;

/// <summary>What a <see cref="TimerWheel"/> calls for each expired node; a struct so the call is devirtualised.</summary>
internal interface ITimerCallback
{
    void OnExpired(TimerNode node);
}
