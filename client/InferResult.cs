using System.Buffers;
using System.Text;

namespace LowLatency.Client;

/// <summary>
/// An inference answer. It owns the buffer the answer was received into (rented from the shared
/// pool): outputs are read as spans over those bytes, with no copy, until <see cref="Dispose"/>
/// returns the buffer. Use it in a <c>using</c>; copy out (<see cref="InferOutput.ToArray{T}"/>)
/// whatever must outlive it. Not thread-safe: read it from one thread at a time.
/// </summary>
public sealed class InferResult : IDisposable
{
    private byte[]? _body;
    private byte[]? _side;
    private int _sideLength;
    private OutputEntry[] _outputs = [];
    private int _outputCount;
    private long[] _dims = [];
    private int _dimCount;
    private string? _modelName;
    private string? _modelVersion;
    private string? _id;
    private string? _degradedReason;
    private string? _featureStatuses;
    private string?[]? _outputNames;

    /// <param name="body">A pooled buffer holding the received answer; the result returns it to the pool when disposed.</param>
    internal InferResult(byte[] body)
    {
        _body = body;
    }

    /// <summary>The model that answered.</summary>
    public string ModelName => _modelName ??= Text(ModelNameSlice) ?? string.Empty;

    /// <summary>The version that answered.</summary>
    public string ModelVersion => _modelVersion ??= Text(ModelVersionSlice) ?? string.Empty;

    /// <summary>The request's id, echoed; null when the request had none.</summary>
    public string? Id => _id ??= Text(IdSlice);

    /// <summary>Whether a fallback answered (the server's <c>degraded</c> parameter).</summary>
    public bool IsDegraded { get; internal set; }

    /// <summary>Why a fallback answered, when <see cref="IsDegraded"/>.</summary>
    public string? DegradedReason => _degradedReason ??= Text(DegradedReasonSlice);

    /// <summary>
    /// A feature-joined answer's row statuses when a row was not PRESENT (the server's
    /// <c>feature_statuses</c> parameter: per view, each row's PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE or
    /// UNAVAILABLE); null when every row was present, or the model joins no features.
    /// </summary>
    public string? FeatureStatuses => _featureStatuses ??= Text(FeatureStatusesSlice);

    /// <summary>The server's breakdown of its time for this request.</summary>
    public ServerTiming ServerTiming { get; internal set; }

    /// <summary>How many outputs the answer holds.</summary>
    public int OutputCount => _outputCount;

    internal Slice ModelNameSlice { get; set; } = Slice.None;

    internal Slice ModelVersionSlice { get; set; } = Slice.None;

    internal Slice IdSlice { get; set; } = Slice.None;

    internal Slice DegradedReasonSlice { get; set; } = Slice.None;

    internal Slice FeatureStatusesSlice { get; set; } = Slice.None;

    /// <summary>The received bytes the decoders read (and slices point into).</summary>
    internal byte[] Body => _body ?? throw Disposed();

    /// <summary>The output at <paramref name="index"/>, in the answer's order.</summary>
    /// <param name="index">0 to <see cref="OutputCount"/> - 1.</param>
    public InferOutput this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _outputCount);
            return new InferOutput(this, index);
        }
    }

    /// <summary>The output named <paramref name="name"/>.</summary>
    /// <param name="name">The output's name.</param>
    /// <exception cref="KeyNotFoundException">The answer has no such output.</exception>
    public InferOutput Output(string name) =>
        TryGetOutput(name, out var output) ? output : throw new KeyNotFoundException($"the answer has no output '{name}'");

    /// <summary>Finds an output by name, without allocating.</summary>
    /// <param name="name">The output's name.</param>
    /// <param name="output">The output, when found.</param>
    public bool TryGetOutput(string name, out InferOutput output)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < _outputCount; i++)
        {
            if (Utf8Text.Equals(Bytes(_outputs[i].Name), name))
            {
                output = new InferOutput(this, i);
                return true;
            }
        }

        output = default;
        return false;
    }

    /// <summary>Returns the buffers to the pool; the outputs' spans must not be used after.</summary>
    public void Dispose()
    {
        var body = Interlocked.Exchange(ref _body, null);
        if (body is null)
        {
            return;
        }

        ArrayPool<byte>.Shared.Return(body);
        if (_side is not null)
        {
            ArrayPool<byte>.Shared.Return(_side);
            _side = null;
        }

        if (_outputs.Length > 0)
        {
            ArrayPool<OutputEntry>.Shared.Return(_outputs);
            _outputs = [];
        }

        if (_dims.Length > 0)
        {
            ArrayPool<long>.Shared.Return(_dims);
            _dims = [];
        }
    }

    internal string OutputName(int index)
    {
        _ = Body;
        _outputNames ??= new string?[_outputCount];
        return _outputNames[index] ??= Text(_outputs[index].Name) ?? string.Empty;
    }

    internal ref readonly OutputEntry Entry(int index)
    {
        _ = Body;
        return ref _outputs[index];
    }

    internal ReadOnlySpan<long> Shape(in OutputEntry entry)
    {
        _ = Body;
        return _dims.AsSpan(entry.DimStart, entry.Rank);
    }

    internal ReadOnlySpan<byte> Bytes(Slice slice)
    {
        var body = Body;
        return slice.Length <= 0 ? default : slice.Side ? _side.AsSpan(slice.Offset, slice.Length) : body.AsSpan(slice.Offset, slice.Length);
    }

    /// <summary>Starts an output (decoders); its dimensions follow with <see cref="AddDim"/>.</summary>
    internal ref OutputEntry AddOutput()
    {
        if (_outputCount == _outputs.Length)
        {
            Grow(ref _outputs, _outputCount);
        }

        ref var entry = ref _outputs[_outputCount++];
        entry = new OutputEntry { Name = Slice.None, DimStart = _dimCount, Data = Slice.None };
        return ref entry;
    }

    internal ref OutputEntry EntryForUpdate(int index) => ref _outputs[index];

    /// <summary>Appends a dimension to the last output's shape.</summary>
    internal void AddDim(long dim)
    {
        if (_dimCount == _dims.Length)
        {
            Grow(ref _dims, _dimCount);
        }

        _dims[_dimCount++] = dim;
        _outputs[_outputCount - 1].Rank++;
    }

    /// <summary>Copies bytes into the side buffer (a name JSON had escaped), returning where they lie.</summary>
    internal Slice AppendSide(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(SideSpan(bytes.Length));
        return CommitSide(bytes.Length);
    }

    /// <summary>A span the decoders may unescape into, then commit with <see cref="CommitSide"/>.</summary>
    internal Span<byte> SideSpan(int length)
    {
        if (_side is null || _side.Length - _sideLength < length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(256, (_sideLength + length) * 2));
            if (_side is not null)
            {
                _side.AsSpan(0, _sideLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_side);
            }

            _side = grown;
        }

        return _side.AsSpan(_sideLength, length);
    }

    internal Slice CommitSide(int length)
    {
        var slice = new Slice(_sideLength, length, Side: true);
        _sideLength += length;
        return slice;
    }

    private static void Grow<T>(ref T[] array, int count)
    {
        var grown = ArrayPool<T>.Shared.Rent(Math.Max(8, count * 2));
        array.AsSpan(0, count).CopyTo(grown);
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
        }

        array = grown;
    }

    private string? Text(Slice slice) => slice.IsPresent ? Encoding.UTF8.GetString(Bytes(slice)) : null;

    private static ObjectDisposedException Disposed() => new(nameof(InferResult), "the result was disposed: its buffers are back in the pool");
}
