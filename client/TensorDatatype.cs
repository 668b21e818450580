namespace LowLatency.Client;

/// <summary>
/// A tensor's element type, as the protocol names it (<c>BOOL</c>, <c>UINT8</c>, … <c>FP64</c>).
/// LowLatency serves the first ten; the unsigned 16-, 32- and 64-bit types are the protocol's too
/// and are read where another server (Triton) answers with them.
/// </summary>
public enum TensorDatatype
{
    /// <summary><c>BOOL</c>: one byte per element, 0 or 1 (<see cref="bool"/>).</summary>
    Bool = 1,

    /// <summary><c>UINT8</c> (<see cref="byte"/>).</summary>
    UInt8,

    /// <summary><c>INT8</c> (<see cref="sbyte"/>).</summary>
    Int8,

    /// <summary><c>INT16</c> (<see cref="short"/>).</summary>
    Int16,

    /// <summary><c>INT32</c> (<see cref="int"/>).</summary>
    Int32,

    /// <summary><c>INT64</c> (<see cref="long"/>).</summary>
    Int64,

    /// <summary><c>FP16</c>: IEEE 754 half precision (<see cref="Half"/>).</summary>
    FP16,

    /// <summary><c>BF16</c>: bfloat16, the upper half of an FP32 (<see cref="BFloat16"/>).</summary>
    BF16,

    /// <summary><c>FP32</c> (<see cref="float"/>).</summary>
    FP32,

    /// <summary><c>FP64</c> (<see cref="double"/>).</summary>
    FP64,

    /// <summary><c>UINT16</c> (<see cref="ushort"/>).</summary>
    UInt16,

    /// <summary><c>UINT32</c> (<see cref="uint"/>).</summary>
    UInt32,

    /// <summary><c>UINT64</c> (<see cref="ulong"/>).</summary>
    UInt64,

    /// <summary>
    /// <c>BYTES</c>: variable-length elements (strings), each as Triton serializes it: a 4-byte
    /// little-endian length, then its bytes. LowLatency takes it for STRING entity ids
    /// (<see cref="InferInput.FromStrings(string, IReadOnlyList{string}, ReadOnlySpan{long})"/>).
    /// </summary>
    Bytes,
}
