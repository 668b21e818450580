using System.Buffers.Binary;
using LowLatency.Features.Definitions;

namespace LowLatency.Features.Store;

/// <summary>
/// A stored row's bytes: a 16-byte header, then the view's values packed little-endian in the
/// features' declared order (<see cref="FeatureView.RowBytes"/> bytes).
/// <code>
/// offset 0   u8   layout version (1)
/// offset 1   u24  revision, big-endian: 0 for pushes; a stream view's later values of one window
///                 (allowed lateness) keep its event time and count up here
/// offset 4   u32  the view's row fingerprint, little-endian
/// offset 8   i64  event time, µs since the Unix epoch (UTC), little-endian, not negative
/// offset 16  the values
/// </code>
/// The first 8 bytes say what the row is; the push script compares them and the event time
/// without parsing numbers (see <see cref="PushScript"/>).
/// </summary>
public static class RowLayout
{
    public const byte Version = 1;
    public const int HeaderBytes = 16;

    /// <summary>The largest revision the header holds (24 bits).</summary>
    public const int MaxRevision = 0xFF_FFFF;

    public static void WriteHeader(Span<byte> dst, uint fingerprint, long eventTimeMicros, int revision = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eventTimeMicros);
        ArgumentOutOfRangeException.ThrowIfNegative(revision);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(revision, MaxRevision);
        dst[0] = Version;
        dst[1] = (byte)(revision >> 16);
        dst[2] = (byte)(revision >> 8);
        dst[3] = (byte)revision;
        BinaryPrimitives.WriteUInt32LittleEndian(dst[4..], fingerprint);
        BinaryPrimitives.WriteInt64LittleEndian(dst[8..], eventTimeMicros);
    }

    /// <summary>A whole stored value: header and values.</summary>
    public static byte[] Encode(FeatureView view, long eventTimeMicros, ReadOnlySpan<byte> values, int revision = 0)
    {
        if (values.Length != view.RowBytes)
        {
            throw new ArgumentException($"a row of \"{view.Name}\" is {view.RowBytes} bytes, not {values.Length}", nameof(values));
        }

        var value = new byte[HeaderBytes + values.Length];
        WriteHeader(value, view.Fingerprint, eventTimeMicros, revision);
        values.CopyTo(value.AsSpan(HeaderBytes));
        return value;
    }

    /// <summary>
    /// The event time and values of a stored value when it is a row of <paramref name="view"/> as
    /// laid out now: this version, this fingerprint, this length. False for anything else.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> stored, FeatureView view, out long eventTimeMicros, out ReadOnlySpan<byte> values)
    {
        if (stored.Length != HeaderBytes + view.RowBytes || stored[0] != Version || BinaryPrimitives.ReadUInt32LittleEndian(stored[4..]) != view.Fingerprint)
        {
            eventTimeMicros = 0;
            values = default;
            return false;
        }

        eventTimeMicros = BinaryPrimitives.ReadInt64LittleEndian(stored[8..]);
        values = stored[HeaderBytes..];
        return true;
    }
}
