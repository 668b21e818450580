using System.Buffers;
using System.Runtime.InteropServices;
using LowLatency.Host.Memory;

namespace LowLatency.Tests.Memory;

/// <summary>Kestrel's buffers: pinned blocks reused up to their share, one-off ordinary blocks past it.</summary>
public sealed class BoundedBlockPoolTests
{
    private const int Pinned = (int)(BoundedBlockPoolFactory.PinnedBytes / BoundedBlockPool.BlockSize);

    private static byte[] ArrayOf(IMemoryOwner<byte> block)
    {
        Assert.True(MemoryMarshal.TryGetArray<byte>(block.Memory, out var segment));
        return segment.Array!;
    }

    [Fact]
    public void A_returned_block_is_lent_again()
    {
        using var pool = new BoundedBlockPoolFactory().Create();
        var block = pool.Rent();
        Assert.Equal(BoundedBlockPool.BlockSize, block.Memory.Length);
        var array = ArrayOf(block);
        block.Dispose();
        using var again = pool.Rent();
        Assert.Same(array, ArrayOf(again));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(BoundedBlockPool.BlockSize + 1));
    }

    [Fact]
    public void Past_the_pinned_share_spare_blocks_are_reused_until_the_trim_drops_them()
    {
        var factory = new BoundedBlockPoolFactory();
        using var pool = factory.Create();
        var pinned = Enumerable.Range(0, Pinned).Select(_ => pool.Rent()).ToList();
        Assert.Equal(Pinned, factory.PinnedBlocks);

        // Past the share: a spare block, reused while the burst lasts.
        var spare = pool.Rent();
        var spareArray = ArrayOf(spare);
        spare.Dispose();
        var again = pool.Rent();
        Assert.Same(spareArray, ArrayOf(again));

        // The trim drops the idle spare blocks, and those lent then when they come back.
        var idle = pool.Rent();
        var idleArray = ArrayOf(idle);
        idle.Dispose();
        factory.DropSpare();
        again.Dispose();
        using (var next = pool.Rent())
        {
            Assert.NotSame(spareArray, ArrayOf(next));
            Assert.NotSame(idleArray, ArrayOf(next));
        }

        // Pinned blocks are kept whatever happens.
        var first = ArrayOf(pinned[0]);
        foreach (var b in pinned)
        {
            b.Dispose();
        }

        using var reused = pool.Rent();
        Assert.Same(first, ArrayOf(reused));
        Assert.Equal(Pinned, factory.PinnedBlocks);
    }

    [Fact]
    public void The_pinned_share_is_counted_over_all_the_pools()
    {
        var factory = new BoundedBlockPoolFactory();
        using var a = factory.Create();
        using var b = factory.Create();
        var held = Enumerable.Range(0, Pinned).Select(i => (i % 2 == 0 ? a : b).Rent()).ToList();
        Assert.Equal(Pinned, factory.PinnedBlocks);
        Assert.False(factory.TryPin());
        foreach (var h in held)
        {
            h.Dispose();
        }
    }

    [Fact]
    public void The_pinned_count_has_a_cache_line_of_its_own()
    {
        Assert.Equal(192, System.Runtime.CompilerServices.Unsafe.SizeOf<BoundedBlockPoolFactory.Counter>());
        Assert.Equal(64, (int)Marshal.OffsetOf<BoundedBlockPoolFactory.Counter>(nameof(BoundedBlockPoolFactory.Counter.Value)));
    }
}
