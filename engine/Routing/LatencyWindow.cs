namespace LowLatency.Engine.Routing;

/// <summary>
/// Answers and latencies over the last N seconds: one slot per second, each with success and
/// failure counts and a log-linear latency histogram (8 sub-buckets per power of two: p99 within
/// 12.5 %). Recording is a few interlocked adds; the slot of a new second is cleared by the first
/// thread to claim it (a CAS on its stamp), so a concurrent add may land in the cleared slot or be
/// lost: a health signal tolerates that, a request path does not take a lock for it.
/// </summary>
internal sealed class LatencyWindow
{
    internal const int Buckets = 8 * 40;

    private readonly Slot[] _slots;

    public LatencyWindow(int seconds)
    {
        _slots = new Slot[seconds];
        for (int i = 0; i < seconds; i++)
        {
            _slots[i] = new Slot();
        }
    }

    public void Record(long nowUs, bool failed, long latencyUs)
    {
        long second = nowUs / 1_000_000;
        var slot = _slots[(int)(second % _slots.Length)];
        long stamp = Volatile.Read(ref slot.Second);
        if (stamp != second)
        {
            if (stamp > second || Interlocked.CompareExchange(ref slot.Second, second, stamp) != stamp)
            {
                // Another thread moved the slot on (or this answer is older than the slot): count
                // it where it is; at worst one answer of a boundary shifts by a second.
            }
            else
            {
                slot.Clear();
            }
        }

        Interlocked.Increment(ref failed ? ref slot.Failures : ref slot.Successes);
        Interlocked.Increment(ref slot.Latency[Bucket(latencyUs)]);
    }

    /// <summary>Totals over the seconds still inside the window at <paramref name="nowUs"/>.</summary>
    public (long Successes, long Failures, long P99Us) Summary(long nowUs)
    {
        long second = nowUs / 1_000_000;
        long ok = 0, failed = 0;
        Span<long> latency = stackalloc long[Buckets];
        latency.Clear();
        foreach (var slot in _slots)
        {
            long stamp = Volatile.Read(ref slot.Second);
            if (stamp > second - _slots.Length && stamp <= second)
            {
                ok += Volatile.Read(ref slot.Successes);
                failed += Volatile.Read(ref slot.Failures);
                for (int b = 0; b < Buckets; b++)
                {
                    latency[b] += Volatile.Read(ref slot.Latency[b]);
                }
            }
        }

        long total = 0;
        foreach (var n in latency)
        {
            total += n;
        }

        long rank = (long)Math.Ceiling(total * 0.99);
        long seen = 0;
        for (int b = 0; b < Buckets; b++)
        {
            seen += latency[b];
            if (seen >= rank && total > 0)
            {
                return (ok, failed, UpperBound(b));
            }
        }

        return (ok, failed, 0);
    }

    public void Reset()
    {
        foreach (var slot in _slots)
        {
            slot.Clear();
            Volatile.Write(ref slot.Second, -1);
        }
    }

    internal static int Bucket(long us)
    {
        if (us < 8)
        {
            return (int)Math.Max(0, us);
        }

        int log = 63 - (int)long.LeadingZeroCount(us);
        int sub = (int)((us >> (log - 3)) & 7);
        return Math.Min(Buckets - 1, ((log - 2) * 8) + sub);
    }

    /// <summary>The largest latency that falls into bucket <paramref name="b"/>.</summary>
    internal static long UpperBound(int b)
    {
        if (b < 8)
        {
            return b;
        }

        int log = (b / 8) + 2;
        long sub = b % 8;
        return ((8 + sub + 1) << (log - 3)) - 1;
    }

    private sealed class Slot
    {
        public long Second = -1;
        public long Successes;
        public long Failures;
        public readonly long[] Latency = new long[Buckets];

        public void Clear()
        {
            Volatile.Write(ref Successes, 0);
            Volatile.Write(ref Failures, 0);
            Array.Clear(Latency);
        }
    }
}
