using System.Collections.Concurrent;
using LowLatency.Engine.Requests;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The submission queue of one model version: many request threads enqueue without a lock, the
/// version's device workers dequeue. A producer wakes a worker only when one is parked.
/// </summary>
internal sealed class RequestQueue
{
    private readonly ConcurrentQueue<InferenceRequest> _queue = new();
    private DeviceWorker[] _workers = [];

    public bool IsEmpty => _queue.IsEmpty;

    public void Attach(DeviceWorker[] workers) => _workers = workers;

    public void Enqueue(InferenceRequest request)
    {
        _queue.Enqueue(request);
        // Wake one parked worker, if any; a busy worker will find the request when it looks again.
        foreach (var w in _workers)
        {
            if (w.TryWake())
            {
                return;
            }
        }
    }

    public bool TryDequeue(out InferenceRequest request) => _queue.TryDequeue(out request!);

    public bool TryPeek(out InferenceRequest request) => _queue.TryPeek(out request!);
}
