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

    void Wake();

    void WakeAhead(long deadlineUs);

    void Stop();
}
