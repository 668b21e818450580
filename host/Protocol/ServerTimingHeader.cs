using System.Globalization;
using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>
/// The <c>Server-Timing</c> header of an answered request: the engine's own breakdown, in the
/// standard's milliseconds with microsecond resolution — queue (waiting for a batch and a worker),
/// compute (the model), overhead (the engine's own hand-offs). Written digit by digit into a stack
/// buffer, not with the custom format "0.###", which would take the general floating-point
/// formatter three times per request (docs/performance.md#host-request-path).
/// </summary>
internal static class ServerTimingHeader
{
    public static string For(InferenceRequest r)
    {
        // Four labels (52 chars) and four values of at most 20 + 4 chars each.
        Span<char> text = stackalloc char[160];
        int n = 0;
        Append(text, ref n, "queue;dur=");
        AppendMilliseconds(text, ref n, r.QueueMicroseconds);
        Append(text, ref n, ", compute;dur=");
        AppendMilliseconds(text, ref n, r.ComputeMicroseconds);
        Append(text, ref n, ", overhead;dur=");
        AppendMilliseconds(text, ref n, r.OverheadMicroseconds);
        if (r.PrecedingMicroseconds > 0)
        {
            // Only a feature join precedes a request's arrival at the engine.
            Append(text, ref n, ", features;dur=");
            AppendMilliseconds(text, ref n, r.PrecedingMicroseconds);
        }

        return new string(text[..n]);
    }

    /// <summary>Microseconds as milliseconds with up to three decimals, trailing zeros dropped (as "0.###" writes them).</summary>
    internal static void AppendMilliseconds(Span<char> text, ref int n, long microseconds)
    {
        long us = Math.Max(0, microseconds);
        (us / 1000).TryFormat(text[n..], out int written, default, CultureInfo.InvariantCulture);
        n += written;
        int fraction = (int)(us % 1000);
        if (fraction == 0)
        {
            return;
        }

        text[n++] = '.';
        int digits = 3;
        while (fraction % 10 == 0)
        {
            fraction /= 10;
            digits--;
        }

        for (int i = digits - 1; i >= 0; i--)
        {
            text[n + i] = (char)('0' + (fraction % 10));
            fraction /= 10;
        }

        n += digits;
    }

    private static void Append(Span<char> text, ref int n, string part)
    {
        part.CopyTo(text[n..]);
        n += part.Length;
    }
}
