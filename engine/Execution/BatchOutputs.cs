using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// One batch's output tensors, kept alive while any of the batch's requests still reads them: each
/// request holds one reference and gives it back once its response is written; the last one disposes
/// the tensors. Pooled per executor: only the device worker takes one (<see cref="TryTake"/>), any
/// thread may release it.
/// </summary>
internal sealed class BatchOutputs
{
    private readonly torch.Tensor?[] _tensors;
    private int _references;

    // 0 free, 1 in use. Written free with release semantics after the tensors are disposed, read
    // with acquire semantics by the worker: it never reuses a slot whose tensors are still alive.
    private int _inUse;

    private readonly NativeHandleCount _handles;

    public BatchOutputs(int outputs, NativeHandleCount handles)
    {
        _tensors = new torch.Tensor?[outputs];
        _handles = handles;
    }

    /// <summary>On the device worker: claims this holder if no request still holds it.</summary>
    public bool TryTake()
    {
        if (Volatile.Read(ref _inUse) != 0)
        {
            return false;
        }

        _inUse = 1;
        return true;
    }

    /// <summary>Takes ownership of an output tensor: it leaves the worker's dispose scope.</summary>
    public void Own(int index, torch.Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        _tensors[index] = tensor;
        _handles.Add(1);
    }

    /// <summary>
    /// Hands out <paramref name="references"/> references, one per request. The completion that
    /// follows (a thread-pool queue, a full fence) publishes the tensors to the requests' threads.
    /// </summary>
    public void Publish(int references) => _references = references;

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }

        int released = 0;
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (_tensors[i] is { } t)
            {
                t.Dispose();
                _tensors[i] = null;
                released++;
            }
        }

        _handles.Add(-released);

        Volatile.Write(ref _inUse, 0);
    }
}
