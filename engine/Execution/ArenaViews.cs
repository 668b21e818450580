using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// One pinned native arena and the tensor views over it (bare handles, <see cref="TensorHandle"/>).
/// Where the row count alone fixes a view's shape, the view is made once per row count and kept: a
/// batch of that size then creates no tensor at all. Used for a worker's input batches and for the
/// output buffers of its output holders; owned by one device worker.
/// </summary>
internal sealed unsafe class ArenaViews : IDisposable
{
    private readonly NativeArena _arena;
    private readonly TensorHandle[] _views;
    private readonly torch.ScalarType _type;
    private readonly NativeHandleCount _handles;

    /// <param name="bytes">The arena's size: the largest batch the config allows (it grows only past that).</param>
    /// <param name="maxRows">The largest row count a view is cached for.</param>
    public ArenaViews(long bytes, int maxRows, torch.ScalarType type, NativeHandleCount handles)
    {
        _arena = new NativeArena(bytes);
        _views = new TensorHandle[maxRows + 1];
        _type = type;
        _handles = handles;
        handles.Add(1);
    }

    public byte* Pointer => _arena.Pointer;

    /// <summary>The first <paramref name="bytes"/> of the arena, made room for first (the contents are then lost).</summary>
    public Span<byte> Span(long bytes)
    {
        if (_arena.EnsureCapacity(bytes))
        {
            // The memory moved: every cached view points at the old block.
            DisposeViews();
        }

        return _arena.Span(bytes);
    }

    /// <summary>
    /// A view of the arena with <paramref name="shape"/> (whose bytes <see cref="Span"/> made room
    /// for). Cached under <paramref name="rows"/> when <paramref name="cache"/> says the row count
    /// fixes the shape; otherwise a new tensor that the caller disposes (<paramref name="temporary"/>).
    /// </summary>
    public TensorHandle View(long[] shape, int rows, bool cache, out bool temporary)
    {
        if (!cache || (uint)rows >= (uint)_views.Length)
        {
            temporary = true;
            return TensorHandle.View(_arena.Pointer, shape, _type);
        }

        temporary = false;
        var view = _views[rows];
        if (view.IsNull)
        {
            view = TensorHandle.View(_arena.Pointer, shape, _type);
            _views[rows] = view;
            _handles.Add(1);
        }

        return view;
    }

    private void DisposeViews()
    {
        for (int k = 0; k < _views.Length; k++)
        {
            if (!_views[k].IsNull)
            {
                _views[k].Dispose();
                _views[k] = default;
                _handles.Add(-1);
            }
        }
    }

    public void Dispose()
    {
        if (_arena.Pointer == null)
        {
            return;
        }

        DisposeViews();
        _arena.Dispose();
        _handles.Add(-1);
    }
}
