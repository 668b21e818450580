using System.Globalization;
using System.Text;

namespace LowLatency.Tests.Hostile;

/// <summary>A raw HTTP/1.1 answer as <see cref="HostileServer.SendRawAsync(byte[], TimeSpan)"/> returns it, taken apart.</summary>
internal sealed record RawAnswer(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public static RawAnswer Parse(string raw)
    {
        int end = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new RawAnswer(HostileServer.StatusOf(raw), new Dictionary<string, string>(), []);
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in raw[..end].Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        return new RawAnswer(HostileServer.StatusOf(raw), headers, Encoding.Latin1.GetBytes(raw[(end + 4)..]));
    }

    public long? ContentLength => Headers.TryGetValue("Content-Length", out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : null;

    public string? ContentType => Headers.GetValueOrDefault("Content-Type");
}
