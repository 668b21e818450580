namespace LowLatency.Engine.Routing;

/// <summary>
/// One immutable split of a model's traffic: candidates (version indices, or <see cref="Fallback"/>)
/// with effective weights. Requests without a key take the next entry of a smooth weighted
/// round-robin schedule (exact over every cycle of at most <see cref="MaxSchedule"/> requests: a
/// 90/10 split is 9 and 1 in every 10); requests with a key take the candidate of highest weighted
/// rendezvous score, so a key keeps its version while weights are unchanged, and when they change
/// only the keys whose share moved change version.
/// </summary>
internal sealed class TrafficSplit
{
    public const int Fallback = -1;
    internal const int MaxSchedule = 1000;

    private readonly int[] _candidates;
    private readonly long[] _ids;
    private readonly double[] _weights;
    private readonly int[] _schedule;
    private int _next = -1;

    public TrafficSplit(int epoch, int[] candidates, long[] ids, long[] weights, bool anyOpen)
    {
        Epoch = epoch;
        AnyOpen = anyOpen;
        _candidates = candidates;
        _ids = ids;
        _weights = new double[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            _weights[i] = weights[i];
        }

        _schedule = Schedule(weights);
    }

    /// <summary>The routing epoch the split was built at.</summary>
    public int Epoch { get; }

    /// <summary>Whether some version is ejected: routing then checks whether its cool-down has passed.</summary>
    public bool AnyOpen { get; }

    /// <summary>The next candidate in the schedule (lock-free: one interlocked increment).</summary>
    public int Next()
    {
        uint n = (uint)Interlocked.Increment(ref _next);
        return _candidates[_schedule[n % (uint)_schedule.Length]];
    }

    /// <summary>The candidate a routing key lands on.</summary>
    public int ForKey(ulong keyHash)
    {
        int best = 0;
        double bestScore = double.MaxValue;
        for (int i = 0; i < _candidates.Length; i++)
        {
            if (_weights[i] <= 0)
            {
                continue;
            }

            // Weighted rendezvous: -ln(u) / w is exponential with rate w; the smallest wins with
            // probability w / sum(w), and depends only on this key and this candidate.
            double score = -Math.Log(RoutingKey.Unit(keyHash, _ids[i])) / _weights[i];
            if (score < bestScore)
            {
                bestScore = score;
                best = i;
            }
        }

        return _candidates[best];
    }

    /// <summary>Positions of candidates in smooth weighted round-robin order (nginx's), scaled to at most <see cref="MaxSchedule"/>.</summary>
    internal static int[] Schedule(long[] weights)
    {
        long g = 0;
        long total = 0;
        foreach (var w in weights)
        {
            g = Gcd(g, w);
            total += w;
        }

        var scaled = new long[weights.Length];
        if (total / g <= MaxSchedule)
        {
            for (int i = 0; i < weights.Length; i++)
            {
                scaled[i] = weights[i] / g;
            }
        }
        else
        {
            // Largest remainder onto MaxSchedule slots; a positive weight keeps at least one.
            long assigned = 0;
            var remainders = new double[weights.Length];
            for (int i = 0; i < weights.Length; i++)
            {
                double exact = (double)weights[i] * MaxSchedule / total;
                scaled[i] = weights[i] > 0 ? Math.Max(1, (long)exact) : 0;
                remainders[i] = exact - (long)exact;
                assigned += scaled[i];
            }

            while (assigned < MaxSchedule)
            {
                int best = Array.IndexOf(remainders, remainders.Max());
                scaled[best]++;
                remainders[best] = -1;
                assigned++;
            }
        }

        long length = 0;
        foreach (var s in scaled)
        {
            length += s;
        }

        var schedule = new int[length];
        var current = new long[scaled.Length];
        for (int n = 0; n < length; n++)
        {
            int best = -1;
            for (int i = 0; i < scaled.Length; i++)
            {
                current[i] += scaled[i];
                if (scaled[i] > 0 && (best < 0 || current[i] > current[best]))
                {
                    best = i;
                }
            }

            current[best] -= length;
            schedule[n] = best;
        }

        return schedule;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
