using CsCheck;
using LowLatency.Engine.Time;

namespace LowLatency.Tests.Scheduling;

public sealed class TimerWheelTests
{
    private sealed class Node(int id) : TimerNode
    {
        public int Id { get; } = id;
    }

    private struct Collect(List<(int Id, long Deadline, long FiredAt)> fired, TimerWheel wheel) : ITimerCallback
    {
        public readonly void OnExpired(TimerNode node) => fired.Add((((Node)node).Id, node.Deadline, wheel.Now));
    }

    [Fact]
    public void A_timer_fires_at_its_tick_not_before()
    {
        var wheel = new TimerWheel();
        var fired = new List<(int, long, long)>();
        var cb = new Collect(fired, wheel);
        wheel.Schedule(new Node(1), 100);
        wheel.Advance(99, ref cb);
        Assert.Empty(fired);
        Assert.Equal(100, wheel.NextExpiry());
        wheel.Advance(100, ref cb);
        Assert.Equal([(1, 100L, 100L)], fired);
        Assert.Equal(0, wheel.Count);
        Assert.Equal(long.MaxValue, wheel.NextExpiry());
    }

    [Theory]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(16_777_216)]
    [InlineData(5_000_000_000)]
    public void Far_deadlines_cascade_down_and_fire_on_their_tick(long deadline)
    {
        var wheel = new TimerWheel(now: 7);
        var fired = new List<(int, long, long)>();
        var cb = new Collect(fired, wheel);
        wheel.Schedule(new Node(1), deadline);
        // Advance in uneven steps to cross every cascade point.
        long t = 7;
        while (fired.Count == 0)
        {
            Assert.True(wheel.NextExpiry() <= deadline);
            t = Math.Min(deadline, Math.Max(t + 1, wheel.NextExpiry()));
            wheel.Advance(t, ref cb);
            Assert.True(fired.Count == 0 || t == deadline);
        }

        Assert.Equal([(1, deadline, deadline)], fired);
    }

    [Fact]
    public void Cancel_is_immediate_and_idempotent()
    {
        var wheel = new TimerWheel();
        var fired = new List<(int, long, long)>();
        var cb = new Collect(fired, wheel);
        var a = new Node(1);
        var b = new Node(2);
        wheel.Schedule(a, 10);
        wheel.Schedule(b, 10);
        wheel.Cancel(a);
        wheel.Cancel(a);
        Assert.False(a.IsScheduled);
        wheel.Advance(20, ref cb);
        Assert.Equal([(2, 10L, 10L)], fired);
    }

    [Fact]
    public void A_past_deadline_fires_at_the_next_advance()
    {
        var wheel = new TimerWheel(now: 1000);
        var fired = new List<(int, long, long)>();
        var cb = new Collect(fired, wheel);
        wheel.Schedule(new Node(1), 5);
        Assert.Equal(1001, wheel.NextExpiry());
        wheel.Advance(1001, ref cb);
        Assert.Single(fired);
    }

    [Fact]
    public void An_idle_wheel_advances_over_hours_at_once()
    {
        var wheel = new TimerWheel();
        var cb = new Collect([], wheel);
        wheel.Advance(3_600_000_000_000, ref cb);
        Assert.Equal(3_600_000_000_000, wheel.Now);
    }

    /// <summary>Against a reference model: every timer fires exactly once, on its tick, during the first advance that reaches it.</summary>
    [Fact]
    public void Matches_a_sorted_list_reference_under_random_operations()
    {
        var ops = Gen.Select(Gen.Int[0, 3], Gen.Long[0, 300_000]).Array[1, 300];
        ops.Sample(sequence =>
        {
            var wheel = new TimerWheel(now: 12_345);
            var fired = new List<(int Id, long Deadline, long FiredAt)>();
            var cb = new Collect(fired, wheel);
            var live = new Dictionary<int, Node>();
            var reference = new Dictionary<int, long>();
            int nextId = 0;
            foreach (var (op, value) in sequence)
            {
                switch (op)
                {
                    case 0:
                    case 1:
                        // Near and far deadlines, some already past.
                        var node = new Node(nextId++);
                        long deadline = wheel.Now - 50 + (op == 0 ? value % 600 : value * 37);
                        wheel.Schedule(node, deadline);
                        live[node.Id] = node;
                        // It must fire exactly at its deadline, or at the next tick if that is past.
                        reference[node.Id] = Math.Max(deadline, wheel.Now + 1);
                        break;
                    case 2 when live.Count > 0:
                        var victim = live.Values.ElementAt((int)(value % live.Count));
                        wheel.Cancel(victim);
                        live.Remove(victim.Id);
                        reference.Remove(victim.Id);
                        break;
                    default:
                        long target = wheel.Now + (value % 5 == 0 ? value * 50 : value % 1000);
                        long expiry = wheel.NextExpiry();
                        long earliest = reference.Count == 0 ? long.MaxValue : reference.Values.Min();
                        Assert.True(expiry <= earliest, $"NextExpiry {expiry} after the earliest deadline {earliest}");
                        Assert.True(expiry > wheel.Now);
                        fired.Clear();
                        wheel.Advance(target, ref cb);
                        var due = reference.Where(r => r.Value <= target).Select(r => r.Key).Order().ToList();
                        Assert.Equal(due, fired.Select(f => f.Id).Order().ToList());
                        var expected = new Dictionary<int, long>(reference);
                        Assert.All(fired, f => Assert.Equal(expected[f.Id], f.FiredAt));
                        foreach (var id in due)
                        {
                            reference.Remove(id);
                            live.Remove(id);
                        }

                        break;
                }

                Assert.Equal(reference.Count, wheel.Count);
            }
        }, iter: 300);
    }
}
