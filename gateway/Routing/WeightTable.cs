namespace LowLatency.Gateway.Routing;

/// <summary>
/// One immutable choice among an alias's backends: cumulative weights, published whole by a
/// reference swap so that a request reads one consistent table without a lock. A request's point
/// on the total comes from a sequence number through Fibonacci hashing (n × 2^64/φ), which spreads
/// consecutive requests evenly: over any run of requests each backend's count stays within a few
/// of its share, with no state but one counter (docs/gateway.md#the-choice).
/// </summary>
internal sealed class WeightTable
{
    private const ulong Golden = 0x9E3779B97F4A7C15;

    // Cumulative weight up to and including each backend (0-weight backends add nothing).
    private readonly ulong[] _cumulative;

    public WeightTable(double[] weights)
    {
        Weights = weights;
        _cumulative = new ulong[weights.Length];
        ulong sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            // Thousandths of a weight: a base of 1 at a 5% floor is still 50.
            sum += (ulong)Math.Round(Math.Max(0, weights[i]) * 1000);
            _cumulative[i] = sum;
        }

        Total = sum;
    }

    /// <summary>The weights the table was built from, by backend index.</summary>
    public double[] Weights { get; }

    /// <summary>The sum of the weights in thousandths: 0 when every backend is out.</summary>
    public ulong Total { get; }

    /// <summary>Whether backend <paramref name="i"/> takes any traffic in this table.</summary>
    public bool Takes(int i) => _cumulative[i] > (i == 0 ? 0 : _cumulative[i - 1]);

    /// <summary>The backend at the point that <paramref name="sequence"/> (a request count, or a routing key's hash) lands on; Total must be positive.</summary>
    public int Pick(ulong sequence)
    {
        ulong point = Math.BigMul(sequence * Golden, Total, out _);
        for (int i = 0; i < _cumulative.Length; i++)
        {
            if (point < _cumulative[i])
            {
                return i;
            }
        }

        return _cumulative.Length - 1;
    }
}
