using System.Runtime.InteropServices;

namespace LowLatency.Client;

/// <summary>
/// One output of an <see cref="InferResult"/>: a view, valid while the result is not disposed. Its
/// spans lie over the received bytes; nothing is copied until <see cref="ToArray{T}"/> or
/// <see cref="CopyTo{T}"/>.
/// </summary>
public readonly struct InferOutput
{
    private readonly InferResult _result;
    private readonly int _index;

    internal InferOutput(InferResult result, int index)
    {
        _result = result;
        _index = index;
    }

    /// <summary>The output's name (made a string on first use, then kept).</summary>
    public string Name => _result.OutputName(_index);

    /// <summary>The elements' type.</summary>
    public TensorDatatype Datatype => _result.Entry(_index).Datatype;

    /// <summary>The shape.</summary>
    public ReadOnlySpan<long> Shape => _result.Shape(in _result.Entry(_index));

    /// <summary>The number of elements.</summary>
    public long ElementCount => Datatype == TensorDatatype.Bytes ? TensorDatatypes.SerializedElements(Bytes) : Bytes.Length / TensorDatatypes.ElementSize(Datatype);

    /// <summary>The elements' raw little-endian bytes, where they lie in the received answer.</summary>
    public ReadOnlySpan<byte> Bytes => _result.Bytes(_result.Entry(_index).Data);

    /// <summary>Whether the output's name is <paramref name="name"/>, without making a string of it.</summary>
    /// <param name="name">The name to compare with.</param>
    public bool NameEquals(string name) => Utf8Text.Equals(_result.Bytes(_result.Entry(_index).Name), name);

    /// <summary>
    /// The elements as <typeparamref name="T"/>, over the received bytes (no copy). <typeparamref name="T"/>
    /// must be the datatype's own type (float for FP32, <see cref="BFloat16"/> for BF16, …), or
    /// byte for the raw bytes, or ushort for the bits of FP16 and BF16.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the datatype's type.</exception>
    public ReadOnlySpan<T> As<T>()
        where T : unmanaged
    {
        var datatype = Datatype;
        bool fits = TensorDatatypes.Of<T>() == datatype
            || typeof(T) == typeof(byte)
            || (typeof(T) == typeof(ushort) && datatype is TensorDatatype.FP16 or TensorDatatype.BF16);
        if (!fits)
        {
            throw new InvalidOperationException($"output '{Name}' is {TensorDatatypes.Name(datatype)}, not readable as {typeof(T).Name}");
        }

        return MemoryMarshal.Cast<byte, T>(Bytes);
    }

    /// <summary>A copy of the elements, which outlives the result.</summary>
    /// <typeparam name="T">As for <see cref="As{T}"/>.</typeparam>
    public T[] ToArray<T>()
        where T : unmanaged => As<T>().ToArray();

    /// <summary>Copies the elements into <paramref name="destination"/>.</summary>
    /// <typeparam name="T">As for <see cref="As{T}"/>.</typeparam>
    /// <param name="destination">At least <see cref="ElementCount"/> long.</param>
    public void CopyTo<T>(Span<T> destination)
        where T : unmanaged => As<T>().CopyTo(destination);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Datatype} [{string.Join(",", Shape.ToArray())}]";
}
