using LowLatency.Engine.Requests;
using LowLatency.Native.Threading;
using TorchSharp;

namespace LowLatency.Engine.Scheduling;

/// <summary>The scheduler's view of a worker, whatever its wait strategy.</summary>
internal interface IDeviceWorker : IDisposable
{
    Span<InferenceRequest> BatchBuffer { get; }

    bool IsIdle { get; }

    long IdleSinceUs { get; }

    int Restarts { get; }

    /// <summary>The instance group (its index in the config's <c>instance_group</c>) the worker belongs to.</summary>
    int Group { get; }

    /// <summary>Whether an answer still reads outputs of this worker's batches: its buffers may not be freed yet.</summary>
    bool OutputsHeld { get; }

    /// <summary>Native handles the worker's runner holds now (arenas, cached views, outputs still read).</summary>
    long LiveHandles { get; }

    /// <summary>Time spent running batches since the worker started (µs): the autoscaler's idle share.</summary>
    long BusyMicroseconds { get; }

    /// <summary>
    /// While a worker added at run time warms up: its batches are not timed into the version's
    /// execution estimates, which admission control reads for the workers already serving (a new
    /// worker's first batches touch fresh arenas and are slow).
    /// </summary>
    bool Warming { get; set; }

    long ExpectedFreeUs { get; set; }

    void Start();

    void Run(int count);

    /// <summary>Takes the worker for a batch its caller runs (<see cref="RunOnCaller"/>); the worker thread is not woken.</summary>
    void Claim(int count);

    /// <summary>Runs the claimed batch on the calling thread and completes it there, then makes the worker idle again.</summary>
    void RunOnCaller();

    void Wake();

    void WakeAhead(long deadlineUs);

    void Stop();
}
