using System.Globalization;
using HdrHistogram;

namespace LowLatency.LoadGen;

/// <summary>
/// Reads the server's <c>Server-Timing</c> header (queue, compute, overhead, and features where a
/// feature join preceded the request; dur in ms) into µs histograms. The server leaves features out
/// when the join took under 1 µs, so its histogram holds only the joins that took longer.
/// </summary>
internal static class ServerTiming
{
    public static readonly string[] Names = ["queue", "compute", "overhead", "features"];

    /// <summary>Records each part; returns their sum (the server's own time for the request, µs), 0 when absent.</summary>
    public static long Record(IEnumerable<string> values, LongHistogram[,] parts, int client)
    {
        long total = 0;
        foreach (var value in values)
        {
            foreach (var metric in value.Split(','))
            {
                var pieces = metric.Split(';', StringSplitOptions.TrimEntries);
                int k = Array.IndexOf(Names, pieces[0]);
                if (k < 0)
                {
                    continue;
                }

                foreach (var p in pieces)
                {
                    if (p.StartsWith("dur=", StringComparison.Ordinal) && double.TryParse(p.AsSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture, out double ms))
                    {
                        long us = (long)Math.Round(ms * 1000);
                        parts[client, k].RecordValue(us);
                        total += us;
                    }
                }
            }
        }

        return total;
    }
}
