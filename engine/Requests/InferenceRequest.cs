using System.Buffers;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Serving;

namespace LowLatency.Engine.Requests;

/// <summary>
/// One inference request: its input tensors (bytes copied once from the request body), the outputs it
/// asked for, its scheduling state and its completion. The host rents one with
/// <see cref="ModelVersion.RentRequest"/>, fills it through <see cref="AddInput"/>, submits it with
/// <see cref="ModelVersion.InferAsync"/>, reads the outputs, and disposes it (back to the pool).
/// This file holds the tensors; the scheduling state and the completion are in the partial files
/// beside it.
/// </summary>
public sealed unsafe partial class InferenceRequest
{
    private readonly ModelConfig _config;
    private readonly Tensor[] _inputs;
    private readonly Tensor[] _outputs;
    private bool _outputsSelected;

    internal InferenceRequest(ModelVersion model)
        : this(model.Config)
    {
        Model = model;
    }

    /// <summary>A request for a configuration alone, with no model version behind it: for scheduler tests.</summary>
    internal InferenceRequest(ModelConfig config)
    {
        Model = null!;
        _config = config;
        int batchRank = _config.Batched ? 1 : 0;
        _inputs = new Tensor[_config.Inputs.Count];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i].Shape = new long[batchRank + _config.Inputs[i].Dims.Length];
        }

        _outputs = new Tensor[_config.Outputs.Count];
        // Continuations run inline where the result is set, which is a thread-pool thread (see Complete).
        _completion.RunContinuationsAsynchronously = false;
        WindowTimer = new RequestTimer(this);
        TimeoutTimer = new RequestTimer(this);
    }

    public ModelVersion Model { get; }

    /// <summary>The request's <c>id</c>, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>Rows in this request (its batch dimension); 1 for models without batching.</summary>
    public int BatchSize { get; private set; }

    /// <summary>
    /// Validates an input's name, datatype and shape against the model and returns the buffer its
    /// data must be written to, of exactly the expected size.
    /// </summary>
    public Span<byte> AddInput(int index, TensorDataType type, ReadOnlySpan<long> shape)
    {
        if ((uint)index >= (uint)_inputs.Length)
        {
            ThrowBadRequest($"model '{_config.Name}' has no input #{index}");
        }

        var spec = _config.Inputs[index];
        ref var input = ref _inputs[index];
        if (input.Present)
        {
            ThrowBadRequest($"input '{spec.Name}' appears more than once");
        }

        if (type != spec.DataType)
        {
            ThrowBadRequest($"input '{spec.Name}': datatype {type.ProtocolName()} does not match the model's {spec.DataType.ProtocolName()}");
        }

        long bytes = ValidateShape(spec, shape, "input");
        shape.CopyTo(input.Shape);
        input.Length = (int)bytes;
        input.Present = true;
        // A pooled request keeps its buffers: steady state allocates nothing. Input buffers live on
        // the pinned object heap, so a batch of one request runs on a view of this very buffer: the
        // request body's bytes are copied once, here, and never again.
        if (input.Data is null || input.Data.Length < input.Length)
        {
            input.Data = GC.AllocateUninitializedArray<byte>(Math.Max(64, input.Length), pinned: true);
        }

        return input.Data.AsSpan(0, input.Length);
    }

    /// <summary>Asks for one output by index; without any such call every output is returned.</summary>
    public void RequestOutput(int index)
    {
        if ((uint)index >= (uint)_outputs.Length)
        {
            ThrowBadRequest($"model '{_config.Name}' has no output #{index}");
        }

        _outputsSelected = true;
        _outputs[index].Requested = true;
    }

    /// <summary>Checks the request as a whole once every input is added.</summary>
    public void Validate()
    {
        int batch = -1;
        for (int i = 0; i < _inputs.Length; i++)
        {
            if (!_inputs[i].Present)
            {
                ThrowBadRequest($"missing input '{_config.Inputs[i].Name}'");
            }

            if (_config.Batched)
            {
                int b = (int)_inputs[i].Shape[0];
                if (batch >= 0 && b != batch)
                {
                    ThrowBadRequest($"input '{_config.Inputs[i].Name}': batch size {b} differs from the other inputs' {batch}");
                }

                batch = b;
            }
        }

        BatchSize = _config.Batched ? batch : 1;
        if (!_outputsSelected)
        {
            for (int i = 0; i < _outputs.Length; i++)
            {
                _outputs[i].Requested = true;
            }
        }
    }

    public int InputCount => _inputs.Length;

    public ReadOnlySpan<long> InputShape(int index) => _inputs[index].Shape;

    public ReadOnlySpan<byte> InputData(int index) => _inputs[index].Data.AsSpan(0, _inputs[index].Length);

    /// <summary>The input's bytes in place: pinned (allocated on the pinned object heap), so valid while the request is.</summary>
    internal unsafe byte* InputPointer(int index) =>
        (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_inputs[index].Data!));

    public int OutputCount => _outputs.Length;

    public bool OutputRequested(int index) => _outputs[index].Requested;

    public ReadOnlySpan<long> OutputShape(int index) => _outputs[index].Shape;

    public ReadOnlySpan<byte> OutputData(int index) => _outputs[index].Data.AsSpan(0, _outputs[index].Length);

    /// <summary>Called by the executor: a buffer for output <paramref name="index"/>, of <paramref name="bytes"/> bytes.</summary>
    internal Span<byte> AllocateOutput(int index, ReadOnlySpan<long> shape, int bytes)
    {
        ref var o = ref _outputs[index];
        if (o.Shape is null || o.Shape.Length != shape.Length)
        {
            o.Shape = new long[shape.Length];
        }

        shape.CopyTo(o.Shape);
        if (o.Data is null || o.Data.Length < bytes)
        {
            ReturnBuffer(ref o.Data);
            o.Data = ArrayPool<byte>.Shared.Rent(Math.Max(1, bytes));
        }

        o.Length = bytes;
        return o.Data.AsSpan(0, bytes);
    }

    /// <summary>Clears what one use of the request set; keeps buffers up to <see cref="KeepBufferBytes"/>.</summary>
    private void ResetTensors()
    {
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i].Present = false;
            _inputs[i].Length = 0;
            if (_inputs[i].Data is { Length: > KeepBufferBytes })
            {
                _inputs[i].Data = null;
            }
        }

        for (int i = 0; i < _outputs.Length; i++)
        {
            _outputs[i].Requested = false;
            _outputs[i].Length = 0;
            if (_outputs[i].Data is { Length: > KeepBufferBytes })
            {
                ReturnBuffer(ref _outputs[i].Data);
            }
        }

        _outputsSelected = false;
        BatchSize = 0;
        Id = null;
    }

    /// <summary>Buffers a pooled request keeps between uses; larger ones go back to the shared pool.</summary>
    private const int KeepBufferBytes = 256 * 1024;

    private static void ReturnBuffer(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }

    private long ValidateShape(TensorConfig spec, ReadOnlySpan<long> shape, string kind)
    {
        int batchRank = _config.Batched ? 1 : 0;
        if (shape.Length != batchRank + spec.Dims.Length)
        {
            ThrowBadRequest($"{kind} '{spec.Name}': shape {Format(shape)} has rank {shape.Length}, the model expects {batchRank + spec.Dims.Length} ({ExpectedShape(spec)})");
        }

        long elements = 1;
        for (int d = 0; d < shape.Length; d++)
        {
            long v = shape[d];
            if (v < 0)
            {
                ThrowBadRequest($"{kind} '{spec.Name}': shape {Format(shape)} has a negative dimension");
            }

            if (d < batchRank)
            {
                if (v < 1 || v > _config.MaxBatchSize)
                {
                    ThrowBadRequest($"{kind} '{spec.Name}': batch size {v} is outside [1, {_config.MaxBatchSize}] (max_batch_size)");
                }
            }
            else
            {
                long want = spec.Dims[d - batchRank];
                if (want >= 0 && v != want)
                {
                    ThrowBadRequest($"{kind} '{spec.Name}': shape {Format(shape)} does not match the model's {ExpectedShape(spec)}");
                }

                if (want < 0 && _config.MaxVariableDim is long max && v > max)
                {
                    ThrowBadRequest($"{kind} '{spec.Name}': dimension {d} is {v}, larger than the model's limit {max} (max_variable_dim)");
                }
            }

            // Bounded well below int.MaxValue so no later product can overflow.
            if (v > 0 && elements > (int.MaxValue / spec.DataType.ElementSize()) / v)
            {
                ThrowBadRequest($"{kind} '{spec.Name}': shape {Format(shape)} is too large");
            }

            elements *= v;
        }

        return elements * spec.DataType.ElementSize();
    }

    private string ExpectedShape(TensorConfig spec) =>
        "[" + (_config.Batched ? "-1" + (spec.Dims.Length > 0 ? "," : string.Empty) : string.Empty) + string.Join(",", spec.Dims) + "]";

    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadRequest(string message) => throw new InferenceException(InferenceStatus.BadRequest, message);

    private struct Tensor
    {
        public long[] Shape;
        public byte[]? Data;
        public int Length;
        public bool Present;
        public bool Requested;
    }
}
