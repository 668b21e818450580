using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Unicode;
using LowLatency.Engine.Config;

namespace LowLatency.Engine.Requests;

/// <summary>
/// A BYTES tensor in a request's buffer: element i at <c>i * stride</c> (<see cref="TensorConfig.ElementSize"/>),
/// its length as a 4-byte little-endian integer, then its bytes, the rest of the stride unused. The
/// stride is fixed so the buffer is sized and reused like any other input's. Only entity ids are
/// BYTES, so every element is checked as an id: 1 to <see cref="TensorConfig.MaxElementBytes"/>
/// bytes of valid UTF-8, else bad input naming the input and the element (the row).
/// </summary>
public static class BytesElements
{
    /// <summary>Writes element <paramref name="element"/> of <paramref name="tensor"/> (the input's buffer) from its bytes as sent.</summary>
    public static void Write(Span<byte> tensor, int element, ReadOnlySpan<byte> value, TensorConfig spec)
    {
        Check(value, element, spec);
        var slot = tensor.Slice(element * spec.ElementSize, spec.ElementSize);
        BinaryPrimitives.WriteInt32LittleEndian(slot, value.Length);
        value.CopyTo(slot[TensorConfig.LengthPrefixBytes..]);
    }

    /// <summary>As <see cref="Write(Span{byte}, int, ReadOnlySpan{byte}, TensorConfig)"/>, from bytes that may lie in several segments.</summary>
    public static void Write(Span<byte> tensor, int element, in ReadOnlySequence<byte> value, TensorConfig spec)
    {
        if (value.IsSingleSegment)
        {
            Write(tensor, element, value.FirstSpan, spec);
            return;
        }

        if (value.Length > spec.MaxElementBytes)
        {
            TooLong(element, value.Length, spec);
        }

        Span<byte> copy = stackalloc byte[(int)value.Length];
        value.CopyTo(copy);
        Write(tensor, element, copy, spec);
    }

    /// <summary>
    /// Fills <paramref name="tensor"/> (<paramref name="count"/> elements) from Triton's BYTES
    /// serialization: each element its 4-byte little-endian length, then its bytes, nothing between
    /// or after. Used for the binary tensor extension, MessagePack's bin and gRPC's raw contents.
    /// </summary>
    public static void Fill(Span<byte> tensor, int count, ReadOnlySequence<byte> serialized, TensorConfig spec)
    {
        var reader = new SequenceReader<byte>(serialized);
        int element = 0;
        while (!reader.End)
        {
            if (element == count)
            {
                Bad($"input '{spec.Name}': the BYTES data holds more than the {count} elements its shape has");
            }

            if (!reader.TryReadLittleEndian(out int length))
            {
                Bad($"input '{spec.Name}': element {element}'s 4-byte length is cut short ({reader.Remaining} bytes left); BYTES data is each element's little-endian 4-byte length, then its bytes");
            }

            if (length < 0 || length > reader.Remaining)
            {
                Bad($"input '{spec.Name}': element {element} claims {(uint)length} bytes, but {reader.Remaining} are left in its BYTES data");
            }

            var value = reader.UnreadSequence.Slice(0, length);
            Write(tensor, element, value, spec);
            reader.Advance(length);
            element++;
        }

        if (element != count)
        {
            Bad($"input '{spec.Name}': the BYTES data holds {element} elements, its shape has {count}");
        }
    }

    /// <summary>
    /// Element <paramref name="element"/>'s bytes, from a buffer <see cref="Write(Span{byte}, int, ReadOnlySpan{byte}, TensorConfig)"/>
    /// filled. A slot no write filled (an in-process caller's mistake; every decoder writes each
    /// element or refuses the request) reads as empty rather than past its stride.
    /// </summary>
    public static ReadOnlySpan<byte> Element(ReadOnlySpan<byte> tensor, int element, int stride)
    {
        var slot = tensor.Slice(element * stride, stride);
        int length = BinaryPrimitives.ReadInt32LittleEndian(slot);
        return slot.Slice(TensorConfig.LengthPrefixBytes, (uint)length <= (uint)(stride - TensorConfig.LengthPrefixBytes) ? length : 0);
    }

    private static void Check(ReadOnlySpan<byte> value, int element, TensorConfig spec)
    {
        if (value.Length == 0 || value.Length > spec.MaxElementBytes)
        {
            TooLong(element, value.Length, spec);
        }

        if (!Utf8.IsValid(value))
        {
            Bad($"input '{spec.Name}': the id of row {element} is not valid UTF-8");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TooLong(int element, long length, TensorConfig spec) => Bad(length == 0
        ? $"input '{spec.Name}': the id of row {element} is empty"
        : $"input '{spec.Name}': the id of row {element} is {length} bytes, over the {spec.MaxElementBytes} this input takes (its max_id_bytes in the model's features.entities)");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Bad(string message) => throw new InferenceException(InferenceStatus.BadRequest, message);
}
