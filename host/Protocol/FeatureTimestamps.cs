using System.Globalization;

namespace LowLatency.Host.Protocol;

/// <summary>
/// Event times as protobuf's JSON writes a <c>Timestamp</c>, which Feast's answers carry: RFC 3339
/// in UTC with a <c>Z</c>, and 0, 3 or 6 fractional digits (the store keeps microseconds), e.g.
/// <c>1970-01-01T00:00:00Z</c>, <c>2024-05-01T12:00:00.250Z</c>.
/// </summary>
internal static class FeatureTimestamps
{
    public const int MaxLength = 32;

    public static int Format(DateTimeOffset time, Span<byte> destination)
    {
        var utc = time.UtcDateTime;
        utc.TryFormat(destination, out int n, "yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture);
        long micros = (utc.Ticks % TimeSpan.TicksPerSecond) / TimeSpan.TicksPerMicrosecond;
        if (micros != 0)
        {
            destination[n++] = (byte)'.';
            bool millis = micros % 1000 == 0;
            (millis ? micros / 1000 : micros).TryFormat(destination[n..], out int digits, millis ? "D3" : "D6", CultureInfo.InvariantCulture);
            n += digits;
        }

        destination[n++] = (byte)'Z';
        return n;
    }
}
