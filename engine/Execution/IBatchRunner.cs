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

    /// <summary>Whether a request still reads outputs this runner gave it (its buffers must outlive that).</summary>
    bool OutputsHeld => false;

    /// <summary>Native handles this runner holds now (its share of its version's).</summary>
    long LiveHandles => 0;
}
