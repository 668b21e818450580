using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Native.Torch;
using TorchSharp;

namespace LowLatency.Engine.Execution;

/// <summary>
/// Runs one batch of requests on the model: lays their inputs out in this worker's native arenas
/// (zero-padding variable dimensions to the batch's largest), calls the model over zero-copy views of
/// those arenas, and copies each request's rows of every output into the request. One per device
/// worker, used only from that worker's thread.
/// </summary>
internal sealed unsafe class BatchExecutor : IDisposable
{
    private readonly ModelConfig _config;
    private readonly TorchScriptModel _model;
    private readonly NativeArena[] _arenas;
    private readonly long[][] _batchShapes;
    private readonly long[][] _partShapes;
    private readonly long[][] _outputPartShapes;
    private readonly object[] _args;
    private readonly torch.Tensor[] _outputs;
    private readonly int _batchRank;

    public BatchExecutor(ModelConfig config, TorchScriptModel model)
    {
        _config = config;
        _model = model;
        _batchRank = config.Batched ? 1 : 0;
        _arenas = new NativeArena[config.Inputs.Count];
        _batchShapes = new long[config.Inputs.Count][];
        _partShapes = new long[config.Inputs.Count][];
        _outputPartShapes = new long[config.Outputs.Count][];
        for (int o = 0; o < _outputPartShapes.Length; o++)
        {
            _outputPartShapes[o] = new long[_batchRank + config.Outputs[o].Dims.Length];
        }

        for (int i = 0; i < _arenas.Length; i++)
        {
            var spec = config.Inputs[i];
            long sample = spec.DataType.ElementSize();
            foreach (var d in spec.Dims)
            {
                sample *= d >= 0 ? d : config.MaxVariableDim ?? 64;
            }

            _arenas[i] = new NativeArena(sample * Math.Max(1, config.MaxBatchSize));
            _batchShapes[i] = new long[_batchRank + spec.Dims.Length];
            _partShapes[i] = new long[_batchRank + spec.Dims.Length];
        }

        _args = new object[config.Inputs.Count];
        _outputs = new torch.Tensor[config.Outputs.Count];
    }

    /// <summary>Runs the batch; throws when the model fails (the caller decides what the requests get).</summary>
    public void Execute(ReadOnlySpan<InferenceRequest> batch)
    {
        int rows = 0;
        foreach (var r in batch)
        {
            rows += r.BatchSize;
        }

        using var scope = torch.NewDisposeScope();
        if (batch.Length == 1)
        {
            // One request: the model runs on views of the request's own pinned buffers, no copy.
            var r = batch[0];
            for (int i = 0; i < _arenas.Length; i++)
            {
                _args[i] = NativeTensor.View(r.InputPointer(i), r.InputShape(i), _config.Inputs[i].DataType.ToTorch());
            }

            _model.Forward(_args, _outputs);
            for (int o = 0; o < _outputs.Length; o++)
            {
                Scatter(batch, o, rows);
            }

            return;
        }

        for (int i = 0; i < _arenas.Length; i++)
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
            arena.EnsureCapacity(bytes);
            var dst = arena.Span(bytes);
            if (padded)
            {
                dst.Clear();
            }

            long rowBytes = rows == 0 ? 0 : bytes / Math.Max(1, _config.Batched ? rows : 1);
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
                    PaddedCopy.Copy(r.InputData(i), r.InputShape(i), dst.Slice((int)offset, (int)len), part, elementSize);
                }
                else
                {
                    r.InputData(i).CopyTo(dst);
                }

                offset += len;
            }

            _args[i] = NativeTensor.View(arena.Pointer, shape, _config.Inputs[i].DataType.ToTorch());
        }

        _model.Forward(_args, _outputs);
        for (int o = 0; o < _outputs.Length; o++)
        {
            Scatter(batch, o, rows);
        }
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

    private void Scatter(ReadOnlySpan<InferenceRequest> batch, int o, int rows)
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

        long total = t.NumberOfElements * spec.DataType.ElementSize();
        var src = new ReadOnlySpan<byte>(NativeTensor.Data(t), checked((int)total));
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

            int len = (int)(rowBytes * n);
            if (r.OutputRequested(o))
            {
                src.Slice((int)offset, len).CopyTo(r.AllocateOutput(o, part, len));
            }

            offset += len;
        }
    }

    public void Dispose()
    {
        foreach (var a in _arenas)
        {
            a.Dispose();
        }
    }
}
