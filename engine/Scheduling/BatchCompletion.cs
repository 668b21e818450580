using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// Completes a batch's requests with one hand-off from the device thread: queuing each request to the
/// thread pool costs the device thread a microsecond or two apiece (the global queue and, often, a
/// thread wake-up), which delays a large batch's last request by tens of µs
/// (docs/performance.md#batch-completion). This work item is queued once; on a pool thread it queues

/// every request but the first to that thread's local queue, where idle pool threads steal them, and
/// then continues the first request inline. Pooled per worker: the device thread takes a free one,
/// the pool thread frees it before running any request's continuation.
/// </summary>
internal sealed class BatchCompletion : IThreadPoolWorkItem
{
    private readonly InferenceRequest?[] _requests;
    private int _count;

    // 0 free, 1 taken: set by the device thread, cleared (release) by the pool thread once it has
    // read every request out, so the device thread never refills one still being read.
    private int _inUse;

    public BatchCompletion(int capacity) => _requests = new InferenceRequest?[capacity];

    public bool TryTake()
    {
        if (Volatile.Read(ref _inUse) != 0)
        {
            return false;
        }

        _inUse = 1;
        return true;
    }

    public void Add(InferenceRequest request) => _requests[_count++] = request;

    /// <summary>Hands the batch to the thread pool (a full fence: the requests' results are published with it).</summary>
    public void Queue()
    {
        if (_count == 0)
        {
            // Every request went to its polling submitter.
            Volatile.Write(ref _inUse, 0);
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        int count = _count;
        if (EngineTracing.Enabled)
        {
            EngineTracing.RecordBatch(_requests.AsSpan(0, count));
        }

        var first = _requests[0]!;
        for (int i = 1; i < count; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_requests[i]!, preferLocal: true);
            _requests[i] = null;
        }

        _requests[0] = null;
        _count = 0;
        Volatile.Write(ref _inUse, 0);
        first.Publish();
    }
}
