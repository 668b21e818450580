namespace LowLatency.Client.Wire;

/// <summary>Reads protobuf from a span: tags, varints, and length-delimited fields as <see cref="Slice"/>s of the span (offsets from its start plus <c>origin</c>).</summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, int origin = 0)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private readonly int _origin = origin;
    private int _position;

    public readonly bool End => _position >= _data.Length;

    public (int Field, int WireType) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        return field > 0 && tag <= int.MaxValue ? (field, (int)(tag & 7)) : throw new MalformedAnswerException("a protobuf field number is out of range");
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw Truncated();
            }

            byte b = _data[_position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new MalformedAnswerException("a protobuf varint is longer than 10 bytes");
    }

    /// <summary>A length-delimited field's payload, as a slice of the whole buffer.</summary>
    public Slice ReadLengthDelimited()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw Truncated();
        }

        var slice = new Slice(_origin + _position, (int)length);
        _position += (int)length;
        return slice;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Advance(8);
                break;
            case 2:
                ReadLengthDelimited();
                break;
            case 5:
                Advance(4);
                break;
            default:
                throw new MalformedAnswerException($"protobuf wire type {wireType} is not one a response uses");
        }
    }

    private void Advance(int n)
    {
        if (n > _data.Length - _position)
        {
            throw Truncated();
        }

        _position += n;
    }

    private static MalformedAnswerException Truncated() => new("the protobuf answer ends early");
}
