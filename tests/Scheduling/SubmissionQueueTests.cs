using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LowLatency.Engine.Scheduling;

namespace LowLatency.Tests.Scheduling;

public sealed class SubmissionQueueTests
{
    private sealed class Item(int producer, int seq)
    {
        public int Producer { get; } = producer;

        public int Seq { get; } = seq;
    }

    [Fact]
    public void Producer_and_consumer_positions_sit_on_their_own_cache_lines()
    {
        Assert.Equal(192, Unsafe.SizeOf<QueuePositions>());
        Assert.Equal(64, (int)Marshal.OffsetOf<QueuePositions>(nameof(QueuePositions.Enqueue)));
        Assert.Equal(128, (int)Marshal.OffsetOf<QueuePositions>(nameof(QueuePositions.Dequeue)));
    }

    [Fact]
    public void A_full_ring_refuses_and_frees_up_as_it_drains()
    {
        var q = new SubmissionQueue<Item>(4);
        Assert.True(q.IsEmpty);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(q.TryEnqueue(new Item(0, i)));
        }

        Assert.False(q.TryEnqueue(new Item(0, 4)));
        Assert.True(q.TryDequeue(out var first));
        Assert.Equal(0, first.Seq);
        Assert.True(q.TryEnqueue(new Item(0, 4)));
        for (int i = 1; i <= 4; i++)
        {
            Assert.True(q.TryDequeue(out var x));
            Assert.Equal(i, x.Seq);
        }

        Assert.True(q.IsEmpty);
        Assert.False(q.TryDequeue(out _));
    }

    [Fact]
    public async Task Many_producers_one_consumer_every_item_once_in_each_producers_order()
    {
        const int Producers = 4, PerProducer = 200_000;
        var q = new SubmissionQueue<Item>(1024);
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                var item = new Item(p, i);
                while (!q.TryEnqueue(item))
                {
                    Thread.SpinWait(10);
                }
            }
        })).ToArray();

        var next = new int[Producers];
        int seen = 0;
        while (seen < Producers * PerProducer)
        {
            if (q.TryDequeue(out var item))
            {
                Assert.Equal(next[item.Producer]++, item.Seq);
                seen++;
            }
            else
            {
                Thread.SpinWait(10);
            }
        }

        await Task.WhenAll(producers);
        Assert.True(q.IsEmpty);
        Assert.All(next, n => Assert.Equal(PerProducer, n));
    }
}
