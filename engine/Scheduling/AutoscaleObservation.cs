namespace LowLatency.Engine.Scheduling;

/// <summary>
/// What the autoscaler saw of one version over its last window, and where it stands: the inputs of
/// <see cref="AutoscalePolicy.Decide"/>, so that every decision can be replayed from them.
/// </summary>
/// <param name="NowUs">When the window ended (µs, the driver's clock).</param>
/// <param name="WindowUs">How long the window ran.</param>
/// <param name="Requests">Requests answered in it.</param>
/// <param name="MeanQueueDelayUs">Their mean time from arrival to being eligible for a batch.</param>
/// <param name="IdleFraction">The workers' idle share of their time in it (0 … 1).</param>
/// <param name="Instances">Instances now.</param>
/// <param name="LastChangeUs">When the autoscaler last changed the count (long.MinValue: never).</param>
/// <param name="FreeCores">Cores no device worker of the engine runs on.</param>
/// <param name="LastOverTargetUs">When a window last ended with the queue delay over the target (long.MinValue: never).</param>
public readonly record struct AutoscaleObservation(long NowUs, long WindowUs, long Requests, double MeanQueueDelayUs, double IdleFraction, int Instances, long LastChangeUs, int FreeCores, long LastOverTargetUs = long.MinValue);
