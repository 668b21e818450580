using System.Globalization;
using LowLatency.Host.Protocol;

namespace LowLatency.Tests.Observability;

/// <summary>The Server-Timing values are written digit by digit; they must read exactly as .NET's "0.###" of the milliseconds.</summary>
public sealed class ServerTimingHeaderTests
{
    [Fact]
    public void Microseconds_read_as_milliseconds_with_up_to_three_decimals_like_the_custom_format()
    {
        var values = new List<long>();
        for (long us = 0; us <= 20_000; us++)
        {
            values.Add(us);
        }

        var random = new Random(20261127);
        for (int i = 0; i < 20_000; i++)
        {
            values.Add(random.NextInt64(0, long.MaxValue / 2));
        }

        values.AddRange([999, 1000, 1001, 1010, 1100, 999_999, 1_000_000, 60_000_000_000, long.MaxValue]);
        Span<char> text = stackalloc char[32];
        foreach (long us in values)
        {
            int n = 0;
            ServerTimingHeader.AppendMilliseconds(text, ref n, us);
            // The reference in decimal arithmetic: a double loses the last digits of large values.
            string expected = (us / 1000m).ToString("0.###", CultureInfo.InvariantCulture);
            Assert.Equal(expected, text[..n].ToString());
        }
    }

    [Fact]
    public void A_negative_duration_reads_as_zero()
    {
        Span<char> text = stackalloc char[32];
        int n = 0;
        ServerTimingHeader.AppendMilliseconds(text, ref n, -5);
        Assert.Equal("0", text[..n].ToString());
    }

    [Fact]
    public void A_repeated_timing_is_the_same_string_and_every_timing_reads_its_own_values()
    {
        string first = ServerTimingHeader.For(1, 30, 2, 0);
        Assert.Equal("queue;dur=0.001, compute;dur=0.03, overhead;dur=0.002", first);
        Assert.Same(first, ServerTimingHeader.For(1, 30, 2, 0));
        Assert.Equal("queue;dur=0, compute;dur=1.5, overhead;dur=0, features;dur=0.04", ServerTimingHeader.For(0, 1500, 0, 40));

        // Far more timings than the remembered slots, each asked twice: colliding slots never answer another's text.
        var random = new Random(20261207);
        for (int i = 0; i < 50_000; i++)
        {
            long q = random.Next(0, 50), c = random.Next(0, 5000), o = random.Next(0, 100), f = random.Next(0, 3) == 0 ? random.Next(1, 200) : 0;
            string expected = $"queue;dur={Ms(q)}, compute;dur={Ms(c)}, overhead;dur={Ms(o)}" + (f > 0 ? $", features;dur={Ms(f)}" : "");
            Assert.Equal(expected, ServerTimingHeader.For(q, c, o, f));
            Assert.Equal(expected, ServerTimingHeader.For(q, c, o, f));
        }

        Assert.Equal("queue;dur=0, compute;dur=3000000, overhead;dur=0", ServerTimingHeader.For(-4, 3_000_000_000, 0, 0));
    }

    private static string Ms(long us) => (us / 1000m).ToString("0.###", CultureInfo.InvariantCulture);
}
