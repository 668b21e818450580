using System.Buffers;
using System.Text;

namespace LowLatency.Client.Wire;

/// <summary>
/// Writes protobuf into an <see cref="IBufferWriter{T}"/> (gRPC's own request buffer): small
/// items into the current span, long byte fields copied chunk by chunk as the writer hands out
/// space. Every field number used here is under 16, so a tag is one byte.
/// </summary>
internal ref struct ProtoWriter(IBufferWriter<byte> output)
{
    public const int LengthDelimited = 2;
    public const int VarintType = 0;

    private readonly IBufferWriter<byte> _output = output;
    private Span<byte> _span;
    private int _used;

    public void Tag(int field, int wireType)
    {
        Ensure(1);
        _span[_used++] = (byte)((field << 3) | wireType);
    }

    public void Varint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _span[_used++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _span[_used++] = (byte)value;
    }

    /// <summary>A length-delimited field's tag and length; its payload follows.</summary>
    public void Header(int field, int length)
    {
        Tag(field, LengthDelimited);
        Varint((ulong)length);
    }

    public void String(int field, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        Header(field, length);
        Ensure(length);
        _used += Encoding.UTF8.GetBytes(text, _span[_used..]);
    }

    public void Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Header(field, bytes.Length);
        Raw(bytes);
    }

    /// <summary>Copies bytes, across as many of the output's buffers as it takes.</summary>
    public void Raw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_used == _span.Length)
            {
                Flush();
                _span = _output.GetSpan();
            }

            int n = Math.Min(bytes.Length, _span.Length - _used);
            bytes[..n].CopyTo(_span[_used..]);
            _used += n;
            bytes = bytes[n..];
        }
    }

    /// <summary>Hands what was written to the output.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            _output.Advance(_used);
        }

        _used = 0;
        _span = default;
    }

    private void Ensure(int n)
    {
        if (_span.Length - _used < n)
        {
            Flush();
            _span = _output.GetSpan(n);
        }
    }
}
