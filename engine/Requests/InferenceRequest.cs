using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LowLatency.Engine.Config;

namespace LowLatency.Engine.Requests;

/// <summary>
/// One inference request: its input tensors, the outputs it asked for, its scheduling state and its
/// completion. The host rents one from a model version, adds its inputs, submits it to that
/// version, reads the outputs, and disposes it (back to the version's pool). This file holds the tensors; the scheduling state and the completion are in the
/// partial files beside it.
/// <para>
/// An input either borrows the caller's bytes (the request body as Kestrel received it: the device
/// worker copies them once, straight into their rows of the batch's input buffer) or is written into
/// a pinned buffer the request owns (for decoders that convert, like JSON's). Outputs are views of
/// the batch's output tensors, held until <see cref="ReleaseOutputs"/>: the response is written from
/// the model's own output memory, with no copy in between.
/// </para>
/// </summary>
public sealed unsafe partial class InferenceRequest
{
    private readonly ModelConfig _config;
    private readonly InputTensor[] _inputs;
    private readonly OutputTensor[] _outputs;
    private bool _outputsSelected;
    private readonly IRequestOwner? _owner;
    private readonly RequestLimits _defaultLimits = RequestLimits.None;
    private IOutputHolder? _heldOutputs;
    private RequestLimits _limits = RequestLimits.None;

    // Warm-up's own request: no client sent it, so it is kept out of the metrics and the version's
    // health (its first calls take hundreds of ms while TorchScript optimises, and a reload's warm-up
    // of version N would land in the live series of the version N it replaces).
    private bool _warmUp;

    internal InferenceRequest(ModelConfig config, string version, RequestLimits limits, IRequestOwner owner)
        : this(config)
    {
        Version = version;
        _owner = owner;
        _defaultLimits = _limits = limits;
    }

    /// <summary>
    /// Marks warm-up's own request, until disposed: it runs at <c>max_batch_size</c> whatever the server
    /// allows clients, and its answer is not counted in the metrics or the version's health.
    /// </summary>
    internal void MarkWarmUp()
    {
        _limits = RequestLimits.None;
        _warmUp = true;
    }

    private void ResetLimits()
    {
        _limits = _defaultLimits;
        _warmUp = false;
    }

    /// <summary>A request checked against <paramref name="config"/> alone, with no model version behind it (decoder fuzzing); never submitted.</summary>
    public static InferenceRequest ForConfig(ModelConfig config) => new(config);

    /// <summary>A request for a configuration alone, with no model version behind it: for scheduler tests.</summary>
    internal InferenceRequest(ModelConfig config)
    {
        _config = config;
        int batchRank = _config.Batched ? 1 : 0;
        _inputs = new InputTensor[_config.RequestInputCount];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i].Shape = new long[batchRank + _config.InputSpec(i).Dims.Length];
        }

        _outputs = new OutputTensor[_config.Outputs.Count];
        // Continuations run inline where the result is set, which is a thread-pool thread (see Complete).
        _completion.RunContinuationsAsynchronously = false;
        WindowTimer = new RequestTimer(this);
        TimeoutTimer = new RequestTimer(this);
    }

    /// <summary>The model version answering the request, as the protocol names it (<c>model_version</c>); empty for a request with no version behind it.</summary>
    public string Version { get; } = string.Empty;

    /// <summary>Warm-up's own request (<see cref="MarkWarmUp"/>): kept out of the metrics and the version's health.</summary>
    internal bool IsWarmUp => _warmUp;

    /// <summary>The configuration the request is checked against (its model version's).</summary>
    public ModelConfig Config => _config;

    /// <summary>The request's <c>id</c>, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>Rows in this request (its batch dimension); 1 for models without batching.</summary>
    public int BatchSize { get; private set; }

    /// <summary>
    /// Validates an input's name, datatype and shape against the model and returns a buffer the
    /// request owns, of exactly the expected size, for the caller to write the data into.
    /// </summary>
    public Span<byte> AddInput(int index, TensorDataType type, ReadOnlySpan<long> shape)
    {
        ref var input = ref Declare(index, type, shape);
        return Own(ref input);
    }

    private static Span<byte> Own(ref InputTensor input)
    {
        // A pooled request keeps its buffers: steady state allocates nothing. Owned buffers live on
        // the pinned object heap, so a batch of one request runs on a view of this very buffer.
        if (input.Owned is null || input.Owned.Length < input.Length)
        {
            input.Owned = GC.AllocateUninitializedArray<byte>(Math.Max(64, input.Length), pinned: true);
        }

        input.Source = new ReadOnlySequence<byte>(input.Owned, 0, input.Length);
        input.Borrowed = false;
        return input.Owned.AsSpan(0, input.Length);
    }

    /// <summary>
    /// Validates an input like <see cref="AddInput(int, TensorDataType, ReadOnlySpan{long})"/> and
    /// borrows its bytes, copying nothing now. The caller keeps <paramref name="data"/>'s memory
    /// valid and unchanged until <see cref="Completion"/> has completed; the device worker copies it
    /// once, into the batch's input buffer.
    /// </summary>
    public void AddInput(int index, TensorDataType type, ReadOnlySpan<long> shape, ReadOnlySequence<byte> data)
    {
        ref var input = ref Declare(index, type, shape);
        if (type == TensorDataType.Bytes)
        {
            // Variable-length elements on the wire, a fixed stride here: converted, not borrowed.
            BytesElements.Fill(Own(ref input), (int)(input.Length / _config.InputSpec(index).ElementSize), data, _config.InputSpec(index));
            return;
        }

        if (data.Length != input.Length)
        {
            input.Present = false;
            ThrowBadRequest($"input '{_config.InputSpec(index).Name}': data has {data.Length} bytes, shape {Format(shape)} of {type.ProtocolName()} needs {input.Length}");
        }

        input.Source = data;
        input.Borrowed = true;
    }

    private ref InputTensor Declare(int index, TensorDataType type, ReadOnlySpan<long> shape)
    {
        if ((uint)index >= (uint)_inputs.Length)
        {
            ThrowBadRequest($"model '{_config.Name}' has no input #{index}");
        }

        var spec = _config.InputSpec(index);
        ref var input = ref _inputs[index];
        if (input.Present)
        {
            ThrowBadRequest($"input '{spec.Name}' appears more than once");
        }

        if (_config.IsJoined(index) && !_warmUp)
        {
            ThrowJoined(spec);
        }

        if (type != spec.DataType)
        {
            ThrowDataType(spec, type);
        }

        long bytes = ValidateShape(spec, shape, "input");
        shape.CopyTo(input.Shape);
        input.Length = (int)bytes;
        input.Present = true;
        return ref input;
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

    /// <summary>
    /// Model input <paramref name="index"/>, joined from the feature store: declares it as
    /// <paramref name="rows"/> rows of the model's dims and returns the request's own buffer for it,
    /// for the join to write the rows' values into (each byte of it: the buffer is reused).
    /// </summary>
    public Span<byte> JoinedInput(int index, int rows)
    {
        if (!_config.IsJoined(index))
        {
            ThrowBadRequest($"model '{_config.Name}': input #{index} is not joined from the feature store");
        }

        var spec = _config.Inputs[index];
        Span<long> shape = stackalloc long[1 + spec.Dims.Length];
        shape[0] = rows;
        spec.Dims.CopyTo(shape[1..]);
        ref var input = ref _inputs[index];
        input.Length = (int)ValidateShape(spec, shape, "input");
        shape.CopyTo(input.Shape);
        input.Present = true;
        if (input.Owned is null || input.Owned.Length < input.Length)
        {
            input.Owned = GC.AllocateUninitializedArray<byte>(Math.Max(64, input.Length), pinned: true);
        }

        input.Source = new ReadOnlySequence<byte>(input.Owned, 0, input.Length);
        input.Borrowed = false;
        return input.Owned.AsSpan(0, input.Length);
    }

    /// <summary>
    /// The rows a feature join fills: checks that every entity input was given and that they agree
    /// on their batch size, which it returns.
    /// </summary>
    public int EntityRows()
    {
        int rows = -1;
        for (int i = _config.Inputs.Count; i < _inputs.Length; i++)
        {
            if (!_inputs[i].Present)
            {
                ThrowMissing(i);
            }

            int b = (int)_inputs[i].Shape[0];
            if (rows >= 0 && b != rows)
            {
                ThrowBadRequest($"input '{_config.InputSpec(i).Name}': batch size {b} differs from the other entity inputs' {rows}");
            }

            rows = b;
        }

        return rows;
    }

    /// <summary>Whether request input <paramref name="index"/> (see <see cref="ModelConfig.InputSpec"/>) was given.</summary>
    public bool HasInput(int index) => _inputs[index].Present;

    /// <summary>Request input <paramref name="index"/>'s bytes, wherever they are (borrowed or owned).</summary>
    public ReadOnlySequence<byte> InputData(int index) => _inputs[index].Source;

    /// <summary>Checks the request as a whole once every input is added (and joined).</summary>
    public void Validate()
    {
        int batch = -1;
        for (int i = 0; i < _inputs.Length; i++)
        {
            if (!_inputs[i].Present)
            {
                if (_warmUp && i >= _config.Inputs.Count)
                {
                    // Warm-up fills the joined inputs itself: no entity ids.
                    continue;
                }

                ThrowMissing(i);
            }

            if (_config.Batched)
            {
                int b = (int)_inputs[i].Shape[0];
                if (batch >= 0 && b != batch)
                {
                    ThrowBadRequest($"input '{_config.InputSpec(i).Name}': batch size {b} differs from the other inputs' {batch}");
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

    /// <summary>The model's inputs: what a batch is made of (entity inputs stay with the request).</summary>
    public int InputCount => _config.Inputs.Count;

    public ReadOnlySpan<long> InputShape(int index) => _inputs[index].Shape;

    /// <summary>The input's bytes, wherever they are (borrowed or owned).</summary>
    internal ReadOnlySequence<byte> InputSource(int index) => _inputs[index].Source;

    /// <summary>
    /// The input's bytes in place when the request owns them (on the pinned object heap, so valid
    /// while the request is); null when they are borrowed.
    /// </summary>
    internal byte* OwnedInputPointer(int index) => _inputs[index].Borrowed
        ? null
        : (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_inputs[index].Owned!));

    public int OutputCount => _outputs.Length;

    public bool OutputRequested(int index) => _outputs[index].Requested;

    public ReadOnlySpan<long> OutputShape(int index) => _outputs[index].Shape;

    /// <summary>The output's bytes: a view of the batch's output tensor, valid until <see cref="ReleaseOutputs"/>.</summary>
    public ReadOnlySpan<byte> OutputData(int index)
    {
        ref var o = ref _outputs[index];
        return o.Data == null ? default : new ReadOnlySpan<byte>(o.Data, o.Length);
    }

    /// <summary>
    /// Lets go of the batch's output tensors once the response holds the outputs (the last request
    /// of a batch to do so frees them). <see cref="Dispose"/> does it too; calling it as soon as the
    /// response is written keeps a slow client from holding a whole batch's outputs.
    /// </summary>
    public void ReleaseOutputs()
    {
        var held = _heldOutputs;
        if (held is null)
        {
            return;
        }

        _heldOutputs = null;
        for (int i = 0; i < _outputs.Length; i++)
        {
            _outputs[i].Data = null;
            _outputs[i].Length = 0;
        }

        held.Release();
    }

    /// <summary>Called by the executor: output <paramref name="index"/> is <paramref name="bytes"/> bytes at <paramref name="data"/>.</summary>
    internal void SetOutput(int index, ReadOnlySpan<long> shape, byte* data, int bytes)
    {
        ref var o = ref _outputs[index];
        if (o.Shape is null || o.Shape.Length != shape.Length)
        {
            o.Shape = new long[shape.Length];
        }

        shape.CopyTo(o.Shape);
        o.Data = data;
        o.Length = bytes;
    }

    /// <summary>Called by the executor: the request holds one reference to its batch's outputs until released.</summary>
    internal void HoldOutputs(IOutputHolder outputs)
    {
        // A request runs once per use; should it run again (a retry), its earlier outputs go first.
        _heldOutputs?.Release();
        _heldOutputs = outputs;
    }

    /// <summary>Clears what one use of the request set; keeps owned buffers up to <see cref="KeepBufferBytes"/>.</summary>
    private void ResetTensors()
    {
        ReleaseOutputs();
        for (int i = 0; i < _inputs.Length; i++)
        {
            ref var input = ref _inputs[i];
            input.Present = false;
            input.Length = 0;
            input.Source = default;
            input.Borrowed = false;
            if (input.Owned is { Length: > KeepBufferBytes })
            {
                input.Owned = null;
            }
        }

        for (int i = 0; i < _outputs.Length; i++)
        {
            _outputs[i].Requested = false;
        }

        _outputsSelected = false;
        BatchSize = 0;
        Id = null;
    }

    /// <summary>Owned input buffers a pooled request keeps between uses; larger ones are left to the GC.</summary>
    private const int KeepBufferBytes = 256 * 1024;

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

                if (_limits.MaxBatchRowsPerRequest > 0 && v > _limits.MaxBatchRowsPerRequest)
                {
                    ThrowBadRequest($"{kind} '{spec.Name}': batch size {v} exceeds the server's limit of {_limits.MaxBatchRowsPerRequest} rows per request (LowLatency:MaxBatchRowsPerRequest)");
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
            if (v > 0 && elements > (int.MaxValue / spec.ElementSize) / v)
            {
                ThrowBadRequest($"{kind} '{spec.Name}': shape {Format(shape)} is too large");
            }

            elements *= v;
        }

        if (elements > _limits.MaxTensorElements)
        {
            ThrowBadRequest($"{kind} '{spec.Name}': shape {Format(shape)} has {elements} elements, over the server's limit of {_limits.MaxTensorElements} (LowLatency:MaxTensorElements)");
        }

        return elements * spec.ElementSize;
    }

    private string ExpectedShape(TensorConfig spec) =>
        "[" + (_config.Batched ? "-1" + (spec.Dims.Length > 0 ? "," : string.Empty) : string.Empty) + string.Join(",", spec.Dims) + "]";

    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadRequest(string message) => throw new InferenceException(InferenceStatus.BadRequest, message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowMissing(int index)
    {
        if (_config.IsJoined(index))
        {
            throw new InferenceException(InferenceStatus.Unavailable, $"model '{_config.Name}': input '{_config.Inputs[index].Name}' is joined from the feature store, and no join filled it");
        }

        if (index >= _config.Inputs.Count)
        {
            var entity = _config.Features!.Entities[index - _config.Inputs.Count];
            ThrowBadRequest($"missing input '{entity.Tensor.Name}': the ids of entity '{entity.Entity}', one per row, shape [rows, 1] of {entity.Tensor.DataType.ProtocolName()}");
        }

        ThrowBadRequest($"missing input '{_config.Inputs[index].Name}'");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDataType(TensorConfig spec, TensorDataType type) => ThrowBadRequest(type == TensorDataType.Bytes
        ? $"input '{spec.Name}': datatype BYTES is taken only for the ids of a STRING entity (an entity input of the model's features); this input takes {spec.DataType.ProtocolName()}"
        : $"input '{spec.Name}': datatype {type.ProtocolName()} does not match the model's {spec.DataType.ProtocolName()}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowJoined(TensorConfig spec) =>
        ThrowBadRequest($"input '{spec.Name}' of model '{_config.Name}' is joined from the feature store: send the entity ids instead ({string.Join(", ", _config.EntityInputs.Select(e => "'" + e.Name + "'"))})");

    private struct InputTensor
    {
        public long[] Shape;
        public byte[]? Owned;
        public ReadOnlySequence<byte> Source;
        public int Length;
        public bool Present;
        public bool Borrowed;
    }

    private struct OutputTensor
    {
        public long[] Shape;
        public byte* Data;
        public int Length;
        public bool Requested;
    }
}
