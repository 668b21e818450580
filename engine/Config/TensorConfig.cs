namespace LowLatency.Engine.Config;

/// <summary>An input or output: <c>dims</c> exclude the batch dimension; -1 marks a variable dimension.</summary>
public sealed record TensorConfig(string Name, TensorDataType DataType, long[] Dims)
{
    public byte[] NameUtf8 { get; } = System.Text.Encoding.UTF8.GetBytes(Name);

    /// <summary>Bytes before each BYTES element: its length, little-endian, as in Triton's BYTES serialization.</summary>
    public const int LengthPrefixBytes = 4;

    /// <summary>For <see cref="TensorDataType.Bytes"/>: the most bytes one element may hold; 0 for the fixed-size types.</summary>
    public int MaxElementBytes { get; init; }

    /// <summary>
    /// The bytes one element takes in a request's buffer: its type's size, or for BYTES a fixed
    /// stride (its length, then up to <see cref="MaxElementBytes"/> bytes) so that its rows sit at
    /// fixed offsets, as every other tensor's do.
    /// </summary>
    public int ElementSize => DataType == TensorDataType.Bytes ? LengthPrefixBytes + MaxElementBytes : DataType.ElementSize();

    public bool HasVariableDims => Array.IndexOf(Dims, -1L) >= 0;
}
