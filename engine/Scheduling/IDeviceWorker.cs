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
