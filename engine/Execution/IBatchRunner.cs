using LowLatency.Engine.Requests;

namespace LowLatency.Engine.Execution;

/// <summary>
/// What a device worker runs a batch with: <see cref="BatchExecutor"/> in the server; a runner
/// without a model in the hand-off benchmarks, so they time and count the engine alone.
/// </summary>
internal interface IBatchRunner : IDisposable
{
    /// <summary>Runs the batch and gives each request its outputs; throws when the batch fails.</summary>
    void Execute(ReadOnlySpan<InferenceRequest> batch);
}
