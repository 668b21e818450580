using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LowLatency.Host.Memory;

namespace LowLatency.Tests.Security;

/// <summary>The body budget's arithmetic: what fits, what is refused, what small bodies may do, and its counter's cache line.</summary>
public sealed class BodyBudgetTests
{
    private const long MiB = 1 << 20;

    [Fact]
    public void Bodies_are_admitted_while_they_fit_and_refused_past_the_budget()
    {
        var budget = new BodyBudget(256 * MiB);
        var held = new List<long>();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(budget.TryReserve(64 * MiB, out long r));
            held.Add(r);
        }

        Assert.False(budget.TryReserve(64 * MiB, out long refused));
        Assert.Equal(0, refused);
        Assert.False(budget.TryReserve(BodyBudget.SmallBody + 1, out _));
        Assert.Equal(256 * MiB, budget.HeldBytes);
        Assert.Equal(4, budget.InProgress);

        budget.Release(held[0]);
        Assert.True(budget.TryReserve(64 * MiB, out long again));
        budget.Release(again);
        foreach (var r in held.Skip(1))
        {
            budget.Release(r);
        }

        Assert.Equal(0, budget.HeldBytes);
        Assert.Equal(0, budget.InProgress);
    }

    [Fact]
    public void A_small_body_is_admitted_and_counted_even_when_the_budget_is_full()
    {
        var budget = new BodyBudget(64 * MiB);
        Assert.True(budget.TryReserve(64 * MiB, out long large));
        Assert.True(budget.TryReserve(BodyBudget.SmallBody, out long small));
        Assert.Equal(64 * MiB + BodyBudget.SmallBody, budget.HeldBytes);
        Assert.Equal(2, budget.InProgress);
        budget.Release(large);
        budget.Release(small);
        Assert.Equal(0, budget.HeldBytes);
    }

    [Fact]
    public void Racing_reservations_never_hold_more_than_the_budget()
    {
        var budget = new BodyBudget(10 * MiB);
        long over = 0;
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                if (budget.TryReserve(3 * MiB, out long r))
                {
                    if (budget.HeldBytes > 10 * MiB)
                    {
                        Interlocked.Increment(ref over);
                    }

                    budget.Release(r);
                }
            }
        });
        Assert.Equal(0, over);
        Assert.Equal(0, budget.HeldBytes);
        Assert.Equal(0, budget.InProgress);
    }

    [Fact]
    public void The_counter_has_a_cache_line_of_its_own()
    {
        Assert.Equal(192, Unsafe.SizeOf<BodyBudget.State>());
        Assert.Equal(64, (int)Marshal.OffsetOf<BodyBudget.State>(nameof(BodyBudget.State.Value)));
    }
}
