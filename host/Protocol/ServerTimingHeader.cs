using System.Globalization;
using System.Runtime.CompilerServices;
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
    // The headers written lately, by their four durations: most requests of a steady load repeat a
    // recent one (durations in whole µs, a narrow range each), and a hit costs no string. A slot is
    // an immutable entry replaced by one reference write, so racing writers lose an entry, never mix
    // two. 4,096 slots: at most about 1 MiB, entries and strings together.
    private const int Slots = 4096;
    private static readonly Entry?[] s_recent = new Entry?[Slots];

    public static string For(InferenceRequest r) => For(r.QueueMicroseconds, r.ComputeMicroseconds, r.OverheadMicroseconds, r.PrecedingMicroseconds);

    internal static string For(long queue, long compute, long overhead, long features)
    {
        if ((ulong)(queue | compute | overhead | features) > int.MaxValue)
        {
            return Format(queue, compute, overhead, features);
        }

        long key1 = (queue << 32) | compute, key2 = (overhead << 32) | features;
        int slot = (int)((ulong)HashCode.Combine(key1, key2) % Slots);
        if (Volatile.Read(ref s_recent[slot]) is { } recent && recent.Key1 == key1 && recent.Key2 == key2)
        {
            return recent.Text;
        }

        return Remember(slot, key1, key2, Format(queue, compute, overhead, features));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Remember(int slot, long key1, long key2, string text)
    {
        Volatile.Write(ref s_recent[slot], new Entry(key1, key2, text));
        return text;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Format(long queue, long compute, long overhead, long features)
    {
        // Four labels (52 chars) and four values of at most 20 + 4 chars each.
        Span<char> text = stackalloc char[160];
        int n = 0;
        Append(text, ref n, "queue;dur=");
        AppendMilliseconds(text, ref n, queue);
        Append(text, ref n, ", compute;dur=");
        AppendMilliseconds(text, ref n, compute);
        Append(text, ref n, ", overhead;dur=");
        AppendMilliseconds(text, ref n, overhead);
        if (features > 0)
        {
            // Only a feature join precedes a request's arrival at the engine.
            Append(text, ref n, ", features;dur=");
            AppendMilliseconds(text, ref n, features);
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

    private sealed record Entry(long Key1, long Key2, string Text);
}
