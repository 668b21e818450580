using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace LowLatency.Client.Wire;

/// <summary>
/// Writes the few JSON forms a request header needs into a span sized beforehand. Strings are
/// escaped only where JSON requires it (<c>"</c>, <c>\</c>, control characters), as the server
/// writes its own, so the common case is one UTF-8 encode and a scan.
/// </summary>
internal ref struct JsonWriter(Span<byte> buffer)
{
    /// <summary>The most bytes a UTF-16 char takes once escaped (<c>\u001f</c>).</summary>
    public const int MaxBytesPerChar = 6;

    /// <summary>The width the timeout is written in: digits, then spaces (JSON whitespace), so it can be rewritten in place.</summary>
    public const int TimeoutWidth = 20;

    private static readonly SearchValues<byte> NeedsEscape = SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    private readonly Span<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public void Raw(ReadOnlySpan<byte> utf8)
    {
        utf8.CopyTo(_buffer[_position..]);
        _position += utf8.Length;
    }

    public void Number(long value)
    {
        Utf8Formatter.TryFormat(value, _buffer[_position..], out int written);
        _position += written;
    }

    /// <summary>A number padded with spaces to <see cref="TimeoutWidth"/> bytes; returns where it begins.</summary>
    public int PaddedNumber(long value)
    {
        int at = _position;
        WritePadded(_buffer.Slice(at, TimeoutWidth), value);
        _position += TimeoutWidth;
        return at;
    }

    public static void WritePadded(Span<byte> field, long value)
    {
        Utf8Formatter.TryFormat(value, field, out int written);
        field[written..].Fill((byte)' ');
    }

    public void String(ReadOnlySpan<byte> utf8)
    {
        _buffer[_position++] = (byte)'"';
        Escaped(utf8);
        _buffer[_position++] = (byte)'"';
    }

    public void String(string text)
    {
        _buffer[_position++] = (byte)'"';
        var tail = _buffer[_position..];
        int length = Encoding.UTF8.GetBytes(text, tail);
        if (tail[..length].IndexOfAny(NeedsEscape) < 0)
        {
            _position += length;
        }
        else
        {
            // Rare: a name with a quote, a backslash or a control character. Escape from a copy.
            byte[] copy = ArrayPool<byte>.Shared.Rent(length);
            tail[..length].CopyTo(copy);
            Escaped(copy.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(copy);
        }

        _buffer[_position++] = (byte)'"';
    }

    private void Escaped(ReadOnlySpan<byte> utf8)
    {
        foreach (byte b in utf8)
        {
            if (b == '"' || b == '\\')
            {
                _buffer[_position++] = (byte)'\\';
                _buffer[_position++] = b;
            }
            else if (b < 0x20)
            {
                "\\u00"u8.CopyTo(_buffer[_position..]);
                _buffer[_position + 4] = (byte)"0123456789abcdef"[b >> 4];
                _buffer[_position + 5] = (byte)"0123456789abcdef"[b & 0xf];
                _position += 6;
            }
            else
            {
                _buffer[_position++] = b;
            }
        }
    }
}
