using LowLatency.Gateway.Routing;

namespace LowLatency.Tests.Gateway;

public sealed class WeightTableTests
{
    [Theory]
    [InlineData(new double[] { 3, 1 }, 1000)]
    [InlineData(new double[] { 90, 10 }, 1000)]
    [InlineData(new double[] { 1, 1, 1 }, 999)]
    [InlineData(new double[] { 5, 0, 95 }, 2000)]
    public void Consecutive_requests_are_spread_by_weight_within_a_few(double[] weights, int requests)
    {
        var table = new WeightTable(weights);
        var counts = new int[weights.Length];
        for (int n = 1; n <= requests; n++)
        {
            counts[table.Pick((ulong)n)]++;
        }

        double total = weights.Sum();
        for (int i = 0; i < weights.Length; i++)
        {
            Assert.InRange(counts[i], (requests * weights[i] / total) - 3, (requests * weights[i] / total) + 3);
        }
    }

    [Fact]
    public void A_backend_of_weight_zero_takes_nothing()
    {
        var table = new WeightTable([0, 2, 0]);
        Assert.False(table.Takes(0));
        Assert.True(table.Takes(1));
        Assert.False(table.Takes(2));
        for (ulong n = 0; n < 100; n++)
        {
            Assert.Equal(1, table.Pick(n));
        }
    }
}
