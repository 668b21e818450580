using System.Buffers.Binary;
using System.Text;

namespace LowLatency.Client.Wire;

/// <summary>
/// Writes the MessagePack a request needs (maps, arrays, strings, integers, booleans, bins) into a
/// span sized beforehand: no growth checks, no allocation. The caller sizes the span from an upper
/// bound of what it writes.
/// </summary>
internal ref struct MsgPackWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public void WriteMapHeader(int count) => WriteContainerHeader(count, 0x80, 0xde);

    public void WriteArrayHeader(int count) => WriteContainerHeader(count, 0x90, 0xdc);

    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteStringHeader(utf8.Length);
        WriteRaw(utf8);
    }

    public void WriteString(string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        WriteStringHeader(length);
        _position += Encoding.UTF8.GetBytes(text, _buffer[_position..]);
    }

    public void WriteBool(bool value) => _buffer[_position++] = value ? (byte)0xc3 : (byte)0xc2;

    /// <summary>The shortest encoding of a non-negative integer.</summary>
    public void WriteUInt(ulong value)
    {
        if (value <= 0x7f)
        {
            _buffer[_position++] = (byte)value;
        }
        else if (value <= byte.MaxValue)
        {
            _buffer[_position++] = 0xcc;
            _buffer[_position++] = (byte)value;
        }
        else if (value <= ushort.MaxValue)
        {
            _buffer[_position++] = 0xcd;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)value);
            _position += 2;
        }
        else if (value <= uint.MaxValue)
        {
            _buffer[_position++] = 0xce;
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], (uint)value);
            _position += 4;
        }
        else
        {
            WriteUInt64Fixed(value);
        }
    }

    /// <summary>A uint64 in its fixed 9-byte form, so that it can be rewritten in place; returns where its 8 bytes begin.</summary>
    public int WriteUInt64Fixed(ulong value)
    {
        _buffer[_position++] = 0xcf;
        int at = _position;
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
        _position += 8;
        return at;
    }

    public void WriteBinHeader(int length)
    {
        if (length <= byte.MaxValue)
        {
            _buffer[_position++] = 0xc4;
            _buffer[_position++] = (byte)length;
        }
        else if (length <= ushort.MaxValue)
        {
            _buffer[_position++] = 0xc5;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)length);
            _position += 2;
        }
        else
        {
            _buffer[_position++] = 0xc6;
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], (uint)length);
            _position += 4;
        }
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    /// <summary>The most bytes a string header takes.</summary>
    public const int MaxHeader = 5;

    private void WriteStringHeader(int length)
    {
        if (length <= 31)
        {
            _buffer[_position++] = (byte)(0xa0 | length);
        }
        else if (length <= byte.MaxValue)
        {
            _buffer[_position++] = 0xd9;
            _buffer[_position++] = (byte)length;
        }
        else if (length <= ushort.MaxValue)
        {
            _buffer[_position++] = 0xda;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)length);
            _position += 2;
        }
        else
        {
            _buffer[_position++] = 0xdb;
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], (uint)length);
            _position += 4;
        }
    }

    private void WriteContainerHeader(int count, byte fix, byte code16)
    {
        if (count <= 15)
        {
            _buffer[_position++] = (byte)(fix | count);
        }
        else if (count <= ushort.MaxValue)
        {
            _buffer[_position++] = code16;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)count);
            _position += 2;
        }
        else
        {
            _buffer[_position++] = (byte)(code16 + 1);
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], (uint)count);
            _position += 4;
        }
    }
}
