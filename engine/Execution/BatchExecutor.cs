using System.Runtime.CompilerServices;
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
/// tensors, which stay alive until every request of the batch has written its response. Tensors
/// are bare handles with one owner each (this executor for a batch's temporary views, an arena for
/// its cached ones, an output holder for served outputs), freed where their owner lets them go: no
/// managed wrapper, no dispose scope, nothing for the GC per batch. One per device worker, used
/// only from that worker's thread.
/// </summary>
internal sealed unsafe class BatchExecutor : IBatchRunner
{
    private readonly ModelConfig _config;
    private readonly TorchScriptModel _model;
    private readonly InputSlot[] _inputSlots;
    private readonly OutputSlot[] _outputSlots;
    private readonly int _batchRank;

    // The module's arguments and results, in the config's order: the spans forward takes.
    private readonly TensorHandle[] _args;
    private readonly TensorHandle[] _results;

    // Views made for this batch only (of a request's own inputs, or of a shape no cached view
    // has): disposed when the batch is done, whatever happened. At most one per input and output.
    private readonly TensorHandle[] _temporaries;
    private int _temporaryCount;

    private readonly long[] _outputCapacity;
    private readonly List<BatchOutputs> _holders = [];
    private int _nextHolder;

    public BatchExecutor(ModelConfig config, TorchScriptModel model)
    {
        _config = config;
        _model = model;
        Handles = new NativeHandleCount(model.Handles);
        _batchRank = config.Batched ? 1 : 0;
        _inputSlots = new InputSlot[config.Inputs.Count];
        for (int i = 0; i < _inputSlots.Length; i++)
        {
            _inputSlots[i] = new InputSlot(config, config.Inputs[i], Handles);
        }

        _outputSlots = new OutputSlot[config.Outputs.Count];
        _outputCapacity = new long[_outputSlots.Length];
        for (int o = 0; o < _outputSlots.Length; o++)
        {
            _outputSlots[o] = new OutputSlot(config, config.Outputs[o]);
            _outputCapacity[o] = _outputSlots[o].Capacity;
        }

        _args = new TensorHandle[_inputSlots.Length];
        _results = new TensorHandle[_outputSlots.Length];
        _temporaries = new TensorHandle[_inputSlots.Length + _outputSlots.Length];
    }

    /// <summary>This executor's share of the version's native handles (its arenas, views and outputs).</summary>
    public NativeHandleCount Handles { get; }

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

        try
        {
            if (batch.Length == 1 && OwnsAllInputs(batch[0]))
            {
                // One request whose inputs it wrote itself (pinned): the model runs on views of them.
                var r = batch[0];
                for (int i = 0; i < _inputSlots.Length; i++)
                {
                    byte* data = r.OwnedInputPointer(i);
                    _args[i] = Temporary(TensorHandle.View(data, r.InputShape(i), _inputSlots[i].Type));
                    _inputSlots[i].Range = new InputRange(data, r.InputSource(i).Length);
                }
            }
            else
            {
                for (int i = 0; i < _inputSlots.Length; i++)
                {
                    Gather(batch, i, rows);
                }
            }

            // The outputs are ours from here until a holder owns them or they are disposed below.
            _model.Forward(_args, _results);
            Answer(batch, rows);
        }
        finally
        {
            for (int k = 0; k < _temporaryCount; k++)
            {
                _temporaries[k].Dispose();
                _temporaries[k] = default;
            }

            _temporaryCount = 0;
            _args.AsSpan().Clear();
        }
    }

    private TensorHandle Temporary(TensorHandle view)
    {
        _temporaries[_temporaryCount++] = view;
        return view;
    }

    /// <summary>Checks the model's outputs and hands each request its rows of them, or throws having freed them.</summary>
    private void Answer(ReadOnlySpan<InferenceRequest> batch, int rows)
    {
        BatchOutputs? holder = null;
        try
        {
            holder = TakeHolder();
            for (int o = 0; o < _results.Length; o++)
            {
                Serve(o, rows, holder);
            }
        }
        catch
        {
            // The model's answer does not fit its configuration: nobody holds anything yet.
            holder?.Abandon();
            for (int o = 0; o < _results.Length; o++)
            {
                _results[o].Dispose();
                _results[o] = default;
                _outputSlots[o].Served = default;
            }

            throw;
        }

        // Nothing below throws: the requests hold the outputs only once every output passed. An
        // output served from the holder's buffer was copied there, and the model's own tensor goes.
        for (int o = 0; o < _results.Length; o++)
        {
            var slot = _outputSlots[o];
            if (slot.Owned)
            {
                holder.Own(o, _results[o]);
            }
            else
            {
                _results[o].Dispose();
            }

            Scatter(batch, o, slot, rows);
            _results[o] = default;
            slot.Served = default;
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
        var slot = _inputSlots[i];
        var shape = slot.BatchShape;
        bool padded = BatchShape(batch, i, rows, shape);
        int elementSize = slot.ElementSize;
        long bytes = elementSize;
        foreach (var d in shape)
        {
            bytes *= d;
        }

        var arena = slot.Arena;
        var dst = arena.Span(bytes);
        if (padded)
        {
            dst.Clear();
        }

        long rowBytes = _config.Batched ? (rows == 0 ? 0 : bytes / rows) : bytes;
        long offset = 0;
        var part = slot.PartShape;
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

        slot.Range = new InputRange(arena.Pointer, bytes);
        var view = arena.View(shape, _config.Batched ? rows : 1, cache: !padded && slot.FixedShape, out bool temporary);
        _args[i] = temporary ? Temporary(view) : view;
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

    /// <summary>
    /// Sets output <paramref name="o"/>'s slot to the tensor the batch serves it from, checked
    /// against the configuration: the model's own tensor where it lies when it is contiguous, on the
    /// CPU and in memory no input shares (<see cref="OutputSlot.Owned"/>); otherwise a copy in the
    /// holder's preallocated buffer for it. That copy happens only where one is needed anyway: an
    /// output on another device, a strided one, or a view of an input (whose memory the next batch
    /// overwrites, or goes back with its request before the responses are written).
    /// </summary>
    private void Serve(int o, int rows, BatchOutputs holder)
    {
        var slot = _outputSlots[o];
        var spec = slot.Spec;
        var t = _results[o];
        if (t.Type != slot.Type)
        {
            throw new InvalidOperationException($"output '{spec.Name}' is {t.Type}, its configuration says {spec.DataType.ConfigName()}");
        }

        var shape = slot.Shape;
        if (t.Dimensions != shape.Length)
        {
            throw WrongShape(spec, t, rows);
        }

        long elements = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = t.Size(d);
            elements *= shape[d];
        }

        if (_config.Batched && shape[0] != rows)
        {
            throw WrongShape(spec, t, rows);
        }

        for (int d = 0; d < spec.Dims.Length; d++)
        {
            if (spec.Dims[d] >= 0 && shape[_batchRank + d] != spec.Dims[d])
            {
                throw WrongShape(spec, t, rows);
            }
        }

        long bytes = elements * spec.DataType.ElementSize();
        slot.Bytes = bytes;
        if (t.OnCpu && t.IsContiguous && !OverlapsAnInput(t.Data, bytes))
        {
            slot.Owned = true;
            slot.Served = t;
            return;
        }

        slot.Owned = false;
        var buffer = holder.Buffer(o, shape, bytes, _config.Batched ? rows : 1, slot.FixedShape, slot.Type, out bool temporary);
        if (temporary)
        {
            Temporary(buffer);
        }

        buffer.CopyFrom(t);
        slot.Served = buffer;
    }

    private bool OverlapsAnInput(byte* data, long bytes)
    {
        foreach (var input in _inputSlots)
        {
            if (input.Range.Overlaps(data, bytes))
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException WrongShape(TensorConfig spec, TensorHandle t, int rows) =>
        new($"output '{spec.Name}' has shape {InferenceRequest.Format(t.Shape())}, expected {rows} rows of {InferenceRequest.Format(spec.Dims)}");

    private void Scatter(ReadOnlySpan<InferenceRequest> batch, int o, OutputSlot slot, int rows)
    {
        var shape = slot.Shape;
        long total = slot.Bytes;
        byte* data = slot.Served.Data;
        long rowBytes = _config.Batched ? (rows == 0 ? 0 : total / rows) : total;
        long offset = 0;
        var part = slot.PartShape;
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

        var holder = new BatchOutputs(_outputCapacity, Math.Max(1, _config.MaxBatchSize), Handles);
        holder.TryTake();
        _holders.Add(holder);
        return holder;
    }

    public long LiveHandles => Handles.Live;

    /// <summary>Any thread: whether a request still holds one of this executor's batch outputs.</summary>
    public bool OutputsHeld
    {
        get
        {
            // The holder list grows only on the worker thread, which has stopped when this is asked.
            foreach (var holder in _holders)
            {
                if (holder.InUse)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Frees the arenas and the holders' buffers: only once no request holds any output (the version is retired).</summary>
    public void Dispose()
    {
        foreach (var input in _inputSlots)
        {
            input.Arena.Dispose();
        }

        foreach (var holder in _holders)
        {
            holder.Dispose();
        }
    }
}
