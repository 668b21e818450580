using System.Buffers;
using System.Runtime.CompilerServices;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Reads Protocol Buffers' wire format straight from a message's buffers, wherever Kestrel's pipe
/// split them: tags, varints, fixed values, and length-delimited fields as slices of the message
/// (never copied). Whatever does not fit the wire format is bad input naming
/// <see cref="Message"/> and the field being read (<see cref="BadInput"/>).
/// </summary>
internal ref struct ProtoReader
{
    private SequenceReader<byte> _reader;

    /// <param name="within">Where the message lies in the outer one (<c>inputs[2]</c>), for errors; default: at the top.</param>
    public ProtoReader(ReadOnlySequence<byte> message, string name, Where within = default)
    {
        _reader = new SequenceReader<byte>(message);
        Message = name;
        Within = within;
    }

    /// <summary>Where this message lies in the outer one; default at the top.</summary>
    public Where Within { get; }

    /// <summary>The message's name, for errors (<c>ModelInferRequest</c>).</summary>
    public string Message { get; }

    public readonly bool End => _reader.End;

    /// <summary>Bytes read from the start of the message.</summary>
    public readonly long Consumed => _reader.Consumed;

    /// <summary>The next field's number and wire type; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_reader.End)
        {
            (field, wireType) = (0, 0);
            return false;
        }

        ulong tag = ReadVarint("a field's tag");
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0 || tag >> 3 > int.MaxValue >> 3)
        {
            Malformed("a field's tag", $"field number {tag >> 3} is not valid");
        }

        return true;
    }

    public ulong ReadVarint(string field)
    {
        var span = _reader.UnreadSpan;
        if (span.Length > 0 && span[0] < 0x80)
        {
            // One byte: most tags, lengths under 128, small numbers.
            _reader.Advance(1);
            return span[0];
        }

        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (!_reader.TryRead(out byte b))
            {
                Malformed(field, "the message ends inside a varint");
            }

            if (shift == 63 && b > 1)
            {
                break;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        return Malformed<ulong>(field, "a varint longer than 64 bits");
    }

    public uint ReadFixed32(string field)
    {
        if (!_reader.TryReadLittleEndian(out int value))
        {
            Malformed(field, "the message ends inside a 32-bit value");
        }

        return (uint)value;
    }

    public ulong ReadFixed64(string field)
    {
        if (!_reader.TryReadLittleEndian(out long value))
        {
            Malformed(field, "the message ends inside a 64-bit value");
        }

        return (ulong)value;
    }

    /// <summary>A length-delimited field's bytes, as a slice of the message (borrowed, not copied).</summary>
    public ReadOnlySequence<byte> ReadBytes(string field)
    {
        ulong length = ReadVarint(field);
        if (length > (ulong)_reader.Remaining)
        {
            Malformed(field, $"its length {length} runs past the end of the message ({_reader.Remaining} bytes left)");
        }

        var slice = _reader.UnreadSequence.Slice(0, (long)length);
        _reader.Advance((long)length);
        return slice;
    }

    /// <summary>Skips a field of the given wire type: an unknown field, as Protocol Buffers' readers do.</summary>
    public void Skip(int wireType, string field)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint(field);
                break;
            case WireType.Fixed64:
                ReadFixed64(field);
                break;
            case WireType.Len:
                ReadBytes(field);
                break;
            case WireType.Fixed32:
                ReadFixed32(field);
                break;
            default:
                // Groups (3, 4) are proto2's, never in this protocol; 6 and 7 do not exist.
                Malformed(field, $"wire type {wireType} is not one this protocol uses");
                break;
        }
    }

    /// <summary>Checks a known field's wire type.</summary>
    public readonly void Expect(int wireType, int expected, string field)
    {
        if (wireType != expected)
        {
            Malformed(field, $"wire type {wireType} where the protocol has {expected}");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public readonly void Malformed(string field, string problem) => BadInput.Throw($"malformed {Message}: {Name(field)}: {problem}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public readonly T Malformed<T>(string field, string problem) => BadInput.Throw<T>($"malformed {Message}: {Name(field)}: {problem}");

    /// <summary>A field's full name for an error: <c>inputs[2].shape</c>.</summary>
    public readonly string Name(string field) => Within.List is null ? field : $"{Within}.{field}";
}
