using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace LowLatency.Host.Memory;

/// <summary>
/// Kestrel's buffers, in place of its own pool: 4 KiB blocks, reused. Up to
/// <see cref="BoundedBlockPoolFactory.PinnedBytes"/> of them (over all the pools) are pinned and kept
/// for the life of the process; past that, blocks are ordinary arrays ("spare" blocks), reused while a
/// burst lasts and dropped by <see cref="BoundedBlockPoolFactory.DropSpare"/> when it is over, for
/// the trim's collection to compact away (<see cref="MemoryTrim"/>). Kestrel's own pool keeps every
/// block it ever lent and gives back 1 % of them every 10 s while requests go on (5 % when idle), so
/// a burst of large bodies stayed resident for many minutes. Spare blocks are not pinned: the pinned
/// object heap is never compacted, and a few pinned blocks kept from a burst held its regions (112 of
/// 124 MiB of managed heap after a trim, in a first version that pinned every block). A socket pins a
/// spare block for each operation on it, which only bursts pay. Renting and returning take no lock.
/// </summary>
internal sealed class BoundedBlockPool(BoundedBlockPoolFactory owner) : MemoryPool<byte>
{
    /// <summary>The size of a block: a page, as Kestrel's own pool.</summary>
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _pinned = new();
    private readonly ConcurrentQueue<Block> _spare = new();
    private volatile bool _disposed;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_pinned.TryDequeue(out var block) || _spare.TryDequeue(out block))
        {
            return block;
        }

        // Pinned while the pools have fewer than their share; spare past it.
        return owner.TryPin() ? new Block(this, pinned: true, 0) : new Block(this, pinned: false, owner.SpareGeneration);
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            return;
        }

        if (block.Pinned)
        {
            _pinned.Enqueue(block);
        }
        else if (block.Generation == owner.SpareGeneration)
        {
            _spare.Enqueue(block);
        }

        // A spare block from before the last DropSpare: left to the GC.
    }

    /// <summary>Drops the idle spare blocks (those lent now are dropped when they come back).</summary>
    internal void DropSpare()
    {
        while (_spare.TryDequeue(out _))
        {
        }
    }

    /// <summary>Drops every idle block (Kestrel disposes its pools when it stops).</summary>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        owner.Forget(this);
        while (_pinned.TryDequeue(out _))
        {
        }

        DropSpare();
    }

    /// <summary>A block and the memory over it, lent again and again.</summary>
    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly BoundedBlockPool _pool;

        public Block(BoundedBlockPool pool, bool pinned, long generation)
        {
            _pool = pool;
            Pinned = pinned;
            Generation = generation;
            // Pinned, on the pinned object heap: sockets read into it without pinning it each time.
            Memory = pinned
                ? MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true), 0, BlockSize)
                : new byte[BlockSize];
        }

        public Memory<byte> Memory { get; }

        public bool Pinned { get; }

        /// <summary>For a spare block, the factory's spare generation it was made in.</summary>
        public long Generation { get; }

        public void Dispose() => _pool.Return(this);
    }
}
