using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// Runs one batch of requests on the model. Each request's input bytes are copied once, from where
/// the request has them (the request body, or its own buffer), into their rows of this worker's
/// native arena, zero-padding variable dimensions to the batch's largest; the model runs on
/// zero-copy views of the arenas; each request then gets views of its rows of the model's own output
/// tensors, which stay alive until every request of the batch has written its response. One per
/// device worker, used only from that worker's thread.
/// </summary>
internal sealed unsafe class BatchExecutor : IBatchRunner
{
    private readonly ModelConfig _config;
    private readonly TorchScriptModel _model;
    private readonly NativeArena[] _arenas;
    private readonly long[][] _batchShapes;
    private readonly long[][] _partShapes;
    private readonly long[][] _outputPartShapes;
    private readonly object[] _args;
    private readonly torch.Tensor[] _outputs;
    private readonly InputRange[] _inputRanges;
    private readonly int _batchRank;

    // Views of the arenas, one per input and row count, made once (outside any dispose scope) for
    // inputs whose shape the row count fixes: a batch of fixed-shape inputs creates no tensor.
    private readonly torch.Tensor?[][] _views;
    private readonly bool[] _fixedShape;

    private readonly List<BatchOutputs> _holders = [];
    private int _nextHolder;

    public BatchExecutor(ModelConfig config, TorchScriptModel model)
    {
        _config = config;
        _model = model;
        _batchRank = config.Batched ? 1 : 0;
        int inputs = config.Inputs.Count;
        _arenas = new NativeArena[inputs];
        _batchShapes = new long[inputs][];
        _partShapes = new long[inputs][];
        _views = new torch.Tensor?[inputs][];
        _fixedShape = new bool[inputs];
        _inputRanges = new InputRange[inputs];
        _outputPartShapes = new long[config.Outputs.Count][];
        for (int o = 0; o < _outputPartShapes.Length; o++)
        {
            _outputPartShapes[o] = new long[_batchRank + config.Outputs[o].Dims.Length];
        }

        for (int i = 0; i < inputs; i++)
        {
            var spec = config.Inputs[i];
            long sample = spec.DataType.ElementSize();
            bool fixedShape = true;
            foreach (var d in spec.Dims)
            {
                fixedShape &= d >= 0;
                sample *= d >= 0 ? d : config.MaxVariableDim ?? 64;
            }

            // Sized once for the largest batch the config allows: the arena never grows with fixed
            // shapes, or with variable ones bounded by max_variable_dim.
            _arenas[i] = new NativeArena(sample * Math.Max(1, config.MaxBatchSize));
            model.Handles.Add(1);
            _batchShapes[i] = new long[_batchRank + spec.Dims.Length];
            _partShapes[i] = new long[_batchRank + spec.Dims.Length];
            _fixedShape[i] = fixedShape;
            _views[i] = new torch.Tensor?[Math.Max(1, config.MaxBatchSize) + 1];
        }

        _args = new object[inputs];
        _outputs = new torch.Tensor[config.Outputs.Count];
    }

    /// <summary>Output holders made so far: grows only while every existing one is still held (tests).</summary>
    internal int OutputHolders => _holders.Count;

    /// <summary>
    /// Runs the batch and gives each request its outputs; throws when the model fails (the caller
    /// decides what the requests get), in which case no request holds anything.
    /// </summary>
    public void Execute(ReadOnlySpan<InferenceRequest> batch)
    {
        int rows = 0;
        foreach (var r in batch)
        {
            rows += r.BatchSize;
        }

        using var scope = torch.NewDisposeScope();
        if (batch.Length == 1 && OwnsAllInputs(batch[0]))
        {
            // One request whose inputs it wrote itself (pinned): the model runs on views of them.
            var r = batch[0];
            for (int i = 0; i < _arenas.Length; i++)
            {
                byte* data = r.OwnedInputPointer(i);
                _args[i] = NativeTensor.View(data, r.InputShape(i), _config.Inputs[i].DataType.ToTorch());
                _inputRanges[i] = new InputRange(data, r.InputSource(i).Length);
            }
        }
        else
        {
            for (int i = 0; i < _arenas.Length; i++)
            {
                Gather(batch, i, rows);
            }
        }

        _model.Forward(_args, _outputs);
        for (int o = 0; o < _outputs.Length; o++)
        {
            _outputs[o] = Checked(o, rows);
        }

        // Nothing below throws: the requests hold the outputs only once every output passed.
        var holder = TakeHolder();
        for (int o = 0; o < _outputs.Length; o++)
        {
            holder.Own(o, _outputs[o]);
            Scatter(batch, o, rows);
            _outputs[o] = null!;
        }

        holder.Publish(batch.Length);
        foreach (var r in batch)
        {
            r.HoldOutputs(holder);
        }
    }

    private static bool OwnsAllInputs(InferenceRequest r)
    {
        for (int i = 0; i < r.InputCount; i++)
        {
            if (r.OwnedInputPointer(i) == null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lays input <paramref name="i"/> of every request out in the arena, in batch order: the one copy.</summary>
    private void Gather(ReadOnlySpan<InferenceRequest> batch, int i, int rows)
    {
        var shape = _batchShapes[i];
        bool padded = BatchShape(batch, i, rows, shape);
        int elementSize = _config.Inputs[i].DataType.ElementSize();
        long bytes = elementSize;
        foreach (var d in shape)
        {
            bytes *= d;
        }

        var arena = _arenas[i];
        if (arena.EnsureCapacity(bytes))
        {
            DisposeViews(i);
        }

        var dst = arena.Span(bytes);
        if (padded)
        {
            dst.Clear();
        }

        long rowBytes = _config.Batched ? (rows == 0 ? 0 : bytes / rows) : bytes;
        long offset = 0;
        var part = _partShapes[i];
        shape.CopyTo(part, 0);
        foreach (var r in batch)
        {
            long n = _config.Batched ? r.BatchSize : 1;
            long len = rowBytes * n;
            if (_config.Batched)
            {
                // The destination of this request is n rows of the batch's row shape.
                part[0] = n;
            }

            PaddedCopy.Copy(r.InputSource(i), r.InputShape(i), dst.Slice((int)offset, (int)len), part, elementSize);
            offset += len;
        }

        _inputRanges[i] = new InputRange(arena.Pointer, bytes);
        _args[i] = padded || !_fixedShape[i] ? NativeTensor.View(arena.Pointer, shape, _config.Inputs[i].DataType.ToTorch()) : CachedView(i, rows, shape);
    }

    private torch.Tensor CachedView(int i, int rows, long[] shape)
    {
        int key = _config.Batched ? rows : 1;
        var view = _views[i][key];
        if (view is null)
        {
            view = NativeTensor.View(_arenas[i].Pointer, shape, _config.Inputs[i].DataType.ToTorch());
            view.DetachFromDisposeScope();
            _views[i][key] = view;
            _model.Handles.Add(1);
        }

        return view;
    }

    /// <summary>The batch's shape for input <paramref name="i"/>; true when some request needs padding.</summary>
    private bool BatchShape(ReadOnlySpan<InferenceRequest> batch, int i, int rows, long[] shape)
    {
        var first = batch[0].InputShape(i);
        first.CopyTo(shape);
        bool padded = false;
        for (int k = 1; k < batch.Length; k++)
        {
            var s = batch[k].InputShape(i);
            for (int d = _batchRank; d < shape.Length; d++)
            {
                if (s[d] != shape[d])
                {
                    padded = true;
                    shape[d] = Math.Max(shape[d], s[d]);
                }
            }
        }

        if (_config.Batched)
        {
            shape[0] = rows;
        }

        return padded;
    }

    /// <summary>Output <paramref name="o"/> as a contiguous CPU tensor of the configured type and shape, in memory no input shares.</summary>
    private torch.Tensor Checked(int o, int rows)
    {
        var spec = _config.Outputs[o];
        var t = _outputs[o];
        if (t.device_type != DeviceType.CPU)
        {
            t = t.cpu();
        }

        if (t.dtype != spec.DataType.ToTorch())
        {
            throw new InvalidOperationException($"output '{spec.Name}' is {t.dtype}, its configuration says {spec.DataType.ConfigName()}");
        }

        t = t.contiguous();
        var shape = t.shape;
        if (shape.Length != _batchRank + spec.Dims.Length || (_config.Batched && shape[0] != rows))
        {
            throw new InvalidOperationException($"output '{spec.Name}' has shape {InferenceRequest.Format(shape)}, expected {rows} rows of {InferenceRequest.Format(spec.Dims)}");
        }

        for (int d = 0; d < spec.Dims.Length; d++)
        {
            if (spec.Dims[d] >= 0 && shape[_batchRank + d] != spec.Dims[d])
            {
                throw new InvalidOperationException($"output '{spec.Name}' has shape {InferenceRequest.Format(shape)}, its configuration says {InferenceRequest.Format(spec.Dims)}");
            }
        }

        // An output that is (a view of) an input lives in memory the next batch overwrites, or that
        // goes back with its request: the responses would read it after that. Copy it out.
        byte* data = NativeTensor.Data(t);
        long bytes = t.NumberOfElements * spec.DataType.ElementSize();
        foreach (var range in _inputRanges)
        {
            if (range.Overlaps(data, bytes))
            {
                return t.clone();
            }
        }

        return t;
    }

    private void Scatter(ReadOnlySpan<InferenceRequest> batch, int o, int rows)
    {
        var spec = _config.Outputs[o];
        var t = _outputs[o];
        var shape = t.shape;
        long total = t.NumberOfElements * spec.DataType.ElementSize();
        byte* data = NativeTensor.Data(t);
        long rowBytes = _config.Batched ? (rows == 0 ? 0 : total / rows) : total;
        long offset = 0;
        var part = _outputPartShapes[o];
        shape.CopyTo(part, 0);
        foreach (var r in batch)
        {
            long n = _config.Batched ? r.BatchSize : 1;
            if (_config.Batched)
            {
                part[0] = n;
            }

            int len = checked((int)(rowBytes * n));
            if (r.OutputRequested(o))
            {
                r.SetOutput(o, part, data + offset, len);
            }

            offset += len;
        }
    }

    /// <summary>A holder no request still holds; a new one only when every existing one is (off the steady state).</summary>
    private BatchOutputs TakeHolder()
    {
        int count = _holders.Count;
        for (int k = 0; k < count; k++)
        {
            int at = (_nextHolder + k) % count;
            if (_holders[at].TryTake())
            {
                _nextHolder = (at + 1) % count;
                return _holders[at];
            }
        }

        var holder = new BatchOutputs(_outputs.Length, _model.Handles);
        holder.TryTake();
        _holders.Add(holder);
        return holder;
    }

    private void DisposeViews(int i)
    {
        var views = _views[i];
        for (int k = 0; k < views.Length; k++)
        {
            if (views[k] is { } v)
            {
                v.Dispose();
                views[k] = null;
                _model.Handles.Add(-1);
            }
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < _arenas.Length; i++)
        {
            DisposeViews(i);
            _arenas[i].Dispose();
            _model.Handles.Add(-1);
        }
    }

    private readonly struct InputRange(byte* start, long bytes)
    {
        private readonly byte* _start = start;
        private readonly long _bytes = bytes;

        public bool Overlaps(byte* data, long bytes) => data < _start + _bytes && _start < data + bytes;
    }
}
