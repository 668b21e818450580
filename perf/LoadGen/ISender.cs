namespace LowLatency.LoadGen;

/// <summary>Sends one request and records it in the run's <see cref="Measurement"/>, timed from <c>startedAt</c> when that is after warm-up.</summary>
internal interface ISender
{
    Task SendAsync(long startedAt, long warmupEnd);
}
