using CsCheck;
using LowLatency.Engine.Routing;

namespace LowLatency.Tests.Routing;

/// <summary>How unversioned requests are split among versions: exact shares without a key, a stable version per key.</summary>
public sealed class TrafficSplitTests
{
    private static TrafficSplit Split(params long[] weights) =>
        new(0, Enumerable.Range(0, weights.Length).ToArray(), Enumerable.Range(1, weights.Length).Select(i => (long)i).ToArray(), weights, anyOpen: false);

    [Fact]
    public void Ninety_ten_over_ten_thousand_requests_is_within_two_percent()
    {
        var split = Split(90, 10);
        var counts = new int[2];
        for (int i = 0; i < 10_000; i++)
        {
            counts[split.Next()]++;
        }

        Assert.InRange(counts[0], 8_800, 9_200);
        // A smooth schedule is exact over every cycle, not only on average.
        Assert.Equal(9_000, counts[0]);
    }

    [Fact]
    public void Schedule_interleaves_rather_than_bursting()
    {
        // nginx's smooth weighted round-robin: 5/1/1 gives a a b a c a a, never five a's in a row.
        var schedule = TrafficSplit.Schedule([5, 1, 1]);
        Assert.Equal([0, 0, 1, 0, 2, 0, 0], schedule);
    }

    [Fact]
    public void Any_weights_give_each_candidate_its_share_of_every_cycle()
    {
        Gen.Int[0, 1000].Array[1, 6].Where(w => w.Sum() > 0).Sample(weights =>
        {
            long[] w = weights.Select(x => (long)x).ToArray();
            var schedule = TrafficSplit.Schedule(w);
            Assert.InRange(schedule.Length, 1, TrafficSplit.MaxSchedule + w.Length);
            long total = w.Sum();
            for (int i = 0; i < w.Length; i++)
            {
                double share = schedule.Count(s => s == i) / (double)schedule.Length;
                Assert.True(Math.Abs(share - ((double)w[i] / total)) <= 0.002 + (1.0 / schedule.Length), $"candidate {i}: {share} vs {(double)w[i] / total}");
                Assert.True(w[i] == 0 ? share == 0 : share > 0);
            }
        });
    }

    [Fact]
    public void A_routing_key_keeps_its_version_and_keys_split_by_weight()
    {
        var split = Split(90, 10);
        var again = Split(90, 10);
        var counts = new int[2];
        for (int i = 0; i < 10_000; i++)
        {
            string key = "user-" + i;
            int c = split.ForKey(RoutingKey.Hash(key));
            counts[c]++;
            // The same key on another split with the same weights (a restarted or other replica): same version.
            Assert.Equal(c, again.ForKey(RoutingKey.Hash(key)));
            Assert.Equal(c, split.ForKey(RoutingKey.Hash(key)));
        }

        Assert.InRange(counts[0], 8_800, 9_200);
    }

    [Fact]
    public void Raising_a_versions_weight_moves_keys_only_towards_it()
    {
        var before = Split(90, 10);
        var after = Split(80, 20);
        int moved = 0;
        for (int i = 0; i < 10_000; i++)
        {
            ulong h = RoutingKey.Hash("k" + i);
            int a = before.ForKey(h), b = after.ForKey(h);
            // Consistent: a key already on the canary stays there when the canary grows.
            Assert.False(a == 1 && b == 0, $"key k{i} left the growing version");
            moved += a != b ? 1 : 0;
        }

        // About the 10 % of keys the canary's share grew by, not a reshuffle.
        Assert.InRange(moved, 700, 1_500);
    }

    [Fact]
    public void The_key_hash_is_stable_across_processes()
    {
        // Pinned values (FNV-1a 64 over UTF-16 code units, SplitMix64 finaliser, computed independently):
        // string.GetHashCode differs per process, and every replica must send a key to the same version.
        Assert.Equal(0x7A1596F0E94B5793UL, RoutingKey.Hash("user-42"));
        Assert.Equal(0xF52A15E9A9B5E89BUL, RoutingKey.Hash(string.Empty));
    }
}
