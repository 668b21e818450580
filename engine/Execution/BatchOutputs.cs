using LowLatency.Engine.Requests;
using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// One batch's outputs, kept alive while any of the batch's requests still reads them: each request
/// holds one reference and gives it back once its response is written; the last one lets them go.
/// An output is either the model's own tensor, served where it lies (contiguous, on the CPU, in
/// memory no input shares), or a copy in this holder's preallocated output buffer for that output
/// (pinned, sized for the largest batch, with a view per row count made once): the destination of a
/// copy that must happen anyway (an output on another device, a strided one, or one that is a view of
/// an input). Pooled per executor: only the device worker takes one (<see cref="TryTake"/>), any
/// thread may release it.
/// </summary>
internal sealed class BatchOutputs : IOutputHolder, IDisposable
{
    private readonly TensorHandle[] _tensors;
    private readonly ArenaViews?[] _buffers;
    private int _references;

    // 0 free, 1 in use. Written free with release semantics after the tensors are disposed, read
    // with acquire semantics by the worker: it never reuses a holder whose outputs are still read.
    private int _inUse;

    private readonly NativeHandleCount _handles;

    private readonly long[] _capacity;
    private readonly int _maxRows;

    /// <param name="capacity">Each output's buffer size, should it need one: max_batch_size rows.</param>
    public BatchOutputs(long[] capacity, int maxRows, NativeHandleCount handles)
    {
        _tensors = new TensorHandle[capacity.Length];
        _buffers = new ArenaViews?[capacity.Length];
        _capacity = capacity;
        _maxRows = maxRows;
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

    /// <summary>Any thread: whether a request of the last batch still holds these outputs.</summary>
    public bool InUse => Volatile.Read(ref _inUse) != 0;

    /// <summary>On the device worker: gives back a holder taken for a batch that failed before any request held it.</summary>
    public void Abandon() => Volatile.Write(ref _inUse, 0);

    /// <summary>Takes ownership of an output tensor: released with the holder's last reference.</summary>
    public void Own(int index, TensorHandle tensor)
    {
        _tensors[index] = tensor;
        _handles.Add(1);
    }

    /// <summary>
    /// On the device worker: output <paramref name="index"/>'s preallocated buffer, as a tensor of
    /// <paramref name="shape"/> to copy the model's output into. Made the first time an output needs
    /// it (most models' outputs are served where they lie and never do). A view the caller must
    /// dispose is <paramref name="temporary"/> (its data stays: it is the holder's buffer).
    /// </summary>
    public TensorHandle Buffer(int index, long[] shape, long bytes, int rows, bool cache, torch.ScalarType type, out bool temporary)
    {
        var buffer = _buffers[index] ??= new ArenaViews(Math.Max(bytes, _capacity[index]), _maxRows, type, _handles);
        buffer.Span(bytes);
        return buffer.View(shape, rows, cache, out temporary);
    }

    /// <summary>
    /// Hands out <paramref name="references"/> references, one per request. The completion that
    /// follows (a thread-pool queue, a full fence) publishes the outputs to the requests' threads.
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
            if (!_tensors[i].IsNull)
            {
                _tensors[i].Dispose();
                _tensors[i] = default;
                released++;
            }
        }

        _handles.Add(-released);

        Volatile.Write(ref _inUse, 0);
    }

    /// <summary>Frees the preallocated buffers; only once no request holds this (the version is retired).</summary>
    public void Dispose()
    {
        foreach (var b in _buffers)
        {
            b?.Dispose();
        }
    }
}
