using System.Buffers.Binary;

namespace LowLatency.Client.Wire;

/// <summary>
/// Reads MessagePack from a span without building objects: strings and bins come back as
/// <see cref="Slice"/>s of the input, values the caller does not want are skipped. Anything
/// malformed or truncated throws <see cref="MalformedAnswerException"/>.
/// </summary>
internal ref struct MsgPackReader(ReadOnlySpan<byte> data)
{
    private const int MaxDepth = 64;
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool End => _position >= _data.Length;

    public readonly int Position => _position;

    public readonly byte Peek() => _position < _data.Length ? _data[_position] : throw Truncated();

    public readonly bool IsMap => Peek() is (>= 0x80 and <= 0x8f) or 0xde or 0xdf;

    public readonly bool IsString => Peek() is (>= 0xa0 and <= 0xbf) or 0xd9 or 0xda or 0xdb;

    public int ReadMapHeader()
    {
        byte code = Next();
        return code switch
        {
            >= 0x80 and <= 0x8f => code & 0x0f,
            0xde => ReadUInt16(),
            0xdf => Count(ReadUInt32()),
            _ => throw Unexpected(code, "a map"),
        };
    }

    public int ReadArrayHeader()
    {
        byte code = Next();
        return code switch
        {
            >= 0x90 and <= 0x9f => code & 0x0f,
            0xdc => ReadUInt16(),
            0xdd => Count(ReadUInt32()),
            _ => throw Unexpected(code, "an array"),
        };
    }

    /// <summary>A string's UTF-8 bytes, where they lie.</summary>
    public Slice ReadStringSlice()
    {
        byte code = Next();
        int length = code switch
        {
            >= 0xa0 and <= 0xbf => code & 0x1f,
            0xd9 => Next(),
            0xda => ReadUInt16(),
            0xdb => Count(ReadUInt32()),
            _ => throw Unexpected(code, "a string"),
        };
        return Take(length);
    }

    public ReadOnlySpan<byte> ReadString()
    {
        var slice = ReadStringSlice();
        return _data.Slice(slice.Offset, slice.Length);
    }

    /// <summary>A map key as UTF-8; a key that is not a string is skipped and read as empty, so that its value is skipped as unknown.</summary>
    public ReadOnlySpan<byte> ReadKey()
    {
        if (IsString)
        {
            return ReadString();
        }

        Skip();
        return default;
    }

    /// <summary>A bin's bytes, where they lie.</summary>
    public Slice ReadBinSlice()
    {
        byte code = Next();
        int length = code switch
        {
            0xc4 => Next(),
            0xc5 => ReadUInt16(),
            0xc6 => Count(ReadUInt32()),
            _ => throw Unexpected(code, "a bin"),
        };
        return Take(length);
    }

    public long ReadInt64()
    {
        byte code = Next();
        switch (code)
        {
            case <= 0x7f:
                return code;
            case >= 0xe0:
                return (sbyte)code;
            case 0xcc:
                return Next();
            case 0xcd:
                return ReadUInt16();
            case 0xce:
                return ReadUInt32();
            case 0xcf:
                ulong u = BinaryPrimitives.ReadUInt64BigEndian(Bytes(8));
                return u <= long.MaxValue ? (long)u : throw new MalformedAnswerException("an integer overflows int64");
            case 0xd0:
                return (sbyte)Next();
            case 0xd1:
                return BinaryPrimitives.ReadInt16BigEndian(Bytes(2));
            case 0xd2:
                return BinaryPrimitives.ReadInt32BigEndian(Bytes(4));
            case 0xd3:
                return BinaryPrimitives.ReadInt64BigEndian(Bytes(8));
            default:
                throw Unexpected(code, "an integer");
        }
    }

    public bool ReadBool()
    {
        byte code = Next();
        return code switch
        {
            0xc2 => false,
            0xc3 => true,
            _ => throw Unexpected(code, "a boolean"),
        };
    }

    public bool TryReadNil()
    {
        if (Peek() == 0xc0)
        {
            _position++;
            return true;
        }

        return false;
    }

    /// <summary>Skips one value, nested ones included.</summary>
    public void Skip() => Skip(0);

    private void Skip(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new MalformedAnswerException($"the answer nests deeper than {MaxDepth}");
        }

        byte code = Next();
        switch (code)
        {
            case <= 0x7f or >= 0xe0 or 0xc0 or 0xc2 or 0xc3:
                return;
            case >= 0x80 and <= 0x8f:
                SkipValues((code & 0x0f) * 2, depth);
                return;
            case >= 0x90 and <= 0x9f:
                SkipValues(code & 0x0f, depth);
                return;
            case >= 0xa0 and <= 0xbf:
                Take(code & 0x1f);
                return;
            case 0xc4 or 0xd9 or 0xcc or 0xd0:
                Take(code is 0xc4 or 0xd9 ? Next() : 1);
                return;
            case 0xc5 or 0xda:
                Take(ReadUInt16());
                return;
            case 0xc6 or 0xdb:
                Take(Count(ReadUInt32()));
                return;
            case 0xcd or 0xd1:
                Take(2);
                return;
            case 0xca or 0xce or 0xd2:
                Take(4);
                return;
            case 0xcb or 0xcf or 0xd3:
                Take(8);
                return;
            case 0xd4 or 0xd5 or 0xd6 or 0xd7 or 0xd8:
                // fixext 1, 2, 4, 8, 16: a type byte, then the data.
                Take(1 + (1 << (code - 0xd4)));
                return;
            case 0xc7:
                int n8 = Next();
                Take(1 + n8);
                return;
            case 0xc8:
                int n16 = ReadUInt16();
                Take(1 + n16);
                return;
            case 0xc9:
                int n32 = Count(ReadUInt32());
                Take(1 + n32);
                return;
            case 0xdc:
                SkipValues(ReadUInt16(), depth);
                return;
            case 0xdd:
                SkipValues(Count(ReadUInt32()), depth);
                return;
            case 0xde:
                SkipValues(ReadUInt16() * 2, depth);
                return;
            case 0xdf:
                SkipValues(checked(Count(ReadUInt32()) * 2), depth);
                return;
            default:
                throw Unexpected(code, "a value");
        }
    }

    private void SkipValues(int count, int depth)
    {
        for (int i = 0; i < count; i++)
        {
            Skip(depth + 1);
        }
    }

    private byte Next() => _position < _data.Length ? _data[_position++] : throw Truncated();

    private ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Bytes(2));

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Bytes(4));

    private ReadOnlySpan<byte> Bytes(int n)
    {
        var slice = Take(n);
        return _data.Slice(slice.Offset, n);
    }

    private Slice Take(int n)
    {
        if (n < 0 || n > _data.Length - _position)
        {
            throw Truncated();
        }

        var slice = new Slice(_position, n);
        _position += n;
        return slice;
    }

    private static int Count(uint n) => n <= int.MaxValue ? (int)n : throw Truncated();

    private static MalformedAnswerException Truncated() => new("the MessagePack answer ends early");

    private static MalformedAnswerException Unexpected(byte code, string what) => new($"expected {what} in the MessagePack answer, found type byte 0x{code:x2}");
}
