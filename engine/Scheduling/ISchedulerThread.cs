using LowLatency.Engine.Requests;
using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>A model version's scheduler, whatever its wait strategy.</summary>
internal interface ISchedulerThread : IDisposable
{
    int QueueDepth { get; }

    /// <summary>How far ahead of a deadline idle workers are woken; the workers report their wake-ups to it.</summary>
    WakeLead Lead { get; }

    bool StepHeldOn(int cpu);

    long OnWorkerIdle();

    int WorkerRestarts { get; }

    /// <summary>Batches of one their submitter ran itself (caller runs).</summary>
    long CallerRunCount { get; }

    void Submit(InferenceRequest request);

    /// <summary>Takes a cancelled request out of the queue at the next step, unless it was batched (<see cref="InferenceRequest.Cancel"/>).</summary>
    void Cancel(InferenceRequest request);

    void Stop();

    /// <summary>Workers published now.</summary>
    int WorkerCount { get; }

    /// <summary>Time every worker, removed ones included, spent running batches (µs).</summary>
    long BusyMicroseconds { get; }

    /// <summary>Native handles the published workers hold now.</summary>
    long WorkerHandles { get; }

    /// <summary>A started worker of an instance group, not yet published (see <see cref="SchedulerThread{TWait}.NewWorker"/>).</summary>
    IDeviceWorker NewWorker(int group, int indexInGroup);

    void Publish(IDeviceWorker worker);

    IDeviceWorker? Unpublish(int group);

    void Retire(IDeviceWorker worker);
}
