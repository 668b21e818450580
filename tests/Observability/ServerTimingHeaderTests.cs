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
}
