using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LowLatency.Client;

/// <summary>
/// One input tensor of a request: a name, a datatype, a shape, and the caller's memory holding the
/// elements (row-major, little-endian, as the wire carries them). Nothing is copied or converted
/// here: the bytes are read once, when the request is encoded, straight into the request buffer.
/// The memory must stay unchanged until <see cref="InferenceClient.InferAsync"/> completes. A shape
/// of up to eight dimensions is held inline, so creating an input allocates nothing.
/// </summary>
public readonly struct InferInput
{
    /// <summary>The most dimensions a shape may have (the server's limit).</summary>
    public const int MaxRank = 16;

    private const int InlineRank = 8;

    private readonly InlineDims _dims;
    private readonly long[]? _longShape;
    private readonly int _rank;

    // The elements: a typed array with a byte range of it (the usual case, no allocation), or any
    // other memory as bytes.
    private readonly Array? _array;
    private readonly int _offset;
    private readonly int _length;
    private readonly ReadOnlyMemory<byte> _memory;

    private InferInput(string name, TensorDatatype datatype, ReadOnlySpan<long> shape, Array? array, int offset, int length, ReadOnlyMemory<byte> memory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (shape.Length > MaxRank)
        {
            throw new ArgumentException($"input '{name}': rank {shape.Length} is over {MaxRank}", nameof(shape));
        }

        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"input '{name}': shape [{string.Join(",", shape.ToArray())}] has a negative dimension", nameof(shape));
            }

            elements = d == 0 || elements == 0 ? 0 : checked(elements * d);
        }

        int size = TensorDatatypes.ElementSize(datatype);
        if (datatype == TensorDatatype.Bytes)
        {
            long serialized = TensorDatatypes.SerializedElements(array is not null
                ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), offset), length)
                : memory.Span);
            if (serialized != elements)
            {
                throw new ArgumentException(serialized < 0
                    ? $"input '{name}': the data is not BYTES elements (each a 4-byte little-endian length, then its bytes)"
                    : $"input '{name}': shape [{string.Join(",", shape.ToArray())}] holds {elements} elements, but the data serializes {serialized}", nameof(shape));
            }
        }
        else if (size == 0)
        {
            throw new ArgumentException($"input '{name}': {datatype} is not a tensor datatype", nameof(datatype));
        }
        else if (elements * size != length)
        {
            throw new ArgumentException($"input '{name}': shape [{string.Join(",", shape.ToArray())}] holds {elements} elements of {TensorDatatypes.Name(datatype)}, {elements * size} bytes, but the data has {length} bytes", nameof(shape));
        }

        Name = name;
        Datatype = datatype;
        _rank = shape.Length;
        if (shape.Length <= InlineRank)
        {
            shape.CopyTo(_dims);
        }
        else
        {
            _longShape = shape.ToArray();
        }

        _array = array;
        _offset = offset;
        _length = length;
        _memory = memory;
    }

    /// <summary>The input's name, as the model declares it.</summary>
    public string Name { get; }

    /// <summary>The elements' type.</summary>
    public TensorDatatype Datatype { get; }

    /// <summary>The shape, batch dimension first where the model batches.</summary>
    [UnscopedRef]
    public ReadOnlySpan<long> Shape => _longShape is not null ? _longShape : ((ReadOnlySpan<long>)_dims)[.._rank];

    /// <summary>The number of dimensions.</summary>
    public int Rank => _rank;

    /// <summary>The size of the data in bytes.</summary>
    public int ByteLength => _length;

    /// <summary>The elements' bytes, where they lie in the caller's memory.</summary>
    public ReadOnlySpan<byte> Bytes => _array is not null
        ? MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), _offset), _length)
        : _memory.Span;

    /// <summary>An input over an array; the datatype follows from <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">bool, byte, sbyte, short, int, long, <see cref="Half"/>, <see cref="BFloat16"/>, float, double, ushort, uint or ulong.</typeparam>
    /// <param name="name">The input's name.</param>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The shape; its element count must be the array's length.</param>
    public static InferInput Create<T>(string name, T[] data, params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        return new InferInput(name, DatatypeOf<T>(), shape, data, 0, checked(data.Length * Unsafe.SizeOf<T>()), default);
    }

    /// <summary>An input over memory (a slice of an array, pooled or native memory); the datatype follows from <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">bool, byte, sbyte, short, int, long, <see cref="Half"/>, <see cref="BFloat16"/>, float, double, ushort, uint or ulong.</typeparam>
    /// <param name="name">The input's name.</param>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The shape; its element count must be the memory's length.</param>
    public static InferInput Create<T>(string name, ReadOnlyMemory<T> data, params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        var datatype = DatatypeOf<T>();
        int length = checked(data.Length * Unsafe.SizeOf<T>());
        if (MemoryMarshal.TryGetArray(data, out ArraySegment<T> segment))
        {
            return new InferInput(name, datatype, shape, segment.Array, segment.Offset * Unsafe.SizeOf<T>(), length, default);
        }

        // Memory of a MemoryManager (native or pooled): seen as bytes through a small wrapper.
        return new InferInput(name, datatype, shape, null, 0, length, typeof(T) == typeof(byte) ? Unsafe.As<ReadOnlyMemory<T>, ReadOnlyMemory<byte>>(ref data) : new ByteView<T>(data).Memory);
    }

    /// <summary>An input over writable memory (<c>array.AsMemory(start, length)</c>); as the <see cref="ReadOnlyMemory{T}"/> overload.</summary>
    /// <typeparam name="T">bool, byte, sbyte, short, int, long, <see cref="Half"/>, <see cref="BFloat16"/>, float, double, ushort, uint or ulong.</typeparam>
    /// <param name="name">The input's name.</param>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The shape; its element count must be the memory's length.</param>
    public static InferInput Create<T>(string name, Memory<T> data, params ReadOnlySpan<long> shape)
        where T : unmanaged => Create(name, (ReadOnlyMemory<T>)data, shape);

    /// <summary>An input over raw bytes of any datatype (BF16 or FP16 bits, say, tensors already encoded, or BYTES elements in Triton's serialization).</summary>
    /// <param name="name">The input's name.</param>
    /// <param name="datatype">What the bytes hold.</param>
    /// <param name="data">The elements' little-endian bytes, row-major.</param>
    /// <param name="shape">The shape; its element count times the datatype's size must be the byte length.</param>
    public static InferInput FromBytes(string name, TensorDatatype datatype, ReadOnlyMemory<byte> data, params ReadOnlySpan<long> shape)
    {
        if (MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment))
        {
            return new InferInput(name, datatype, shape, segment.Array, segment.Offset, segment.Count, default);
        }

        return new InferInput(name, datatype, shape, null, 0, data.Length, data);
    }

    /// <summary>
    /// A BYTES input of strings (STRING entity ids, say), each written as UTF-8 in Triton's
    /// serialization (a 4-byte little-endian length, then the bytes) into one new array: the one
    /// input kind that allocates, its elements having no fixed size to read in place.
    /// </summary>
    /// <param name="name">The input's name.</param>
    /// <param name="values">The strings, row-major.</param>
    /// <param name="shape">The shape; its element count must be the number of strings.</param>
    public static InferInput FromStrings(string name, IReadOnlyList<string> values, params ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        long total = 0;
        for (int i = 0; i < values.Count; i++)
        {
            total += sizeof(uint) + System.Text.Encoding.UTF8.GetByteCount(values[i] ?? throw new ArgumentException($"input '{name}': element {i} is null", nameof(values)));
        }

        byte[] data = new byte[checked((int)total)];
        int at = 0;
        for (int i = 0; i < values.Count; i++)
        {
            int n = System.Text.Encoding.UTF8.GetBytes(values[i], data.AsSpan(at + sizeof(uint)));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), (uint)n);
            at += sizeof(uint) + n;
        }

        return new InferInput(name, TensorDatatype.Bytes, shape, data, 0, data.Length, default);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Datatype} [{string.Join(",", Shape.ToArray())}]";

    private static TensorDatatype DatatypeOf<T>()
        where T : unmanaged
    {
        var type = TensorDatatypes.Of<T>();
        return type != 0 ? type : throw new ArgumentException($"{typeof(T).Name} is not a tensor element type: use bool, byte, sbyte, short, int, long, Half, BFloat16, float, double, ushort, uint or ulong, or InferInput.FromBytes");
    }

    [InlineArray(InlineRank)]
    private struct InlineDims
    {
        private long _element;
    }

    /// <summary>Memory of <typeparamref name="T"/> seen as its bytes.</summary>
    private sealed class ByteView<T>(ReadOnlyMemory<T> source) : MemoryManager<byte>
        where T : unmanaged
    {
        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(source.Span), source.Length));

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
