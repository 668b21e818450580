using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace LowLatency.Host.Memory;

/// <summary>
/// Makes Kestrel's memory pools (<see cref="BoundedBlockPool"/>; Kestrel asks for two), counts the
/// pinned blocks they share (at most <see cref="PinnedBytes"/>' worth), and drops their spare blocks
/// when the trim asks (<see cref="DropSpare"/>).
/// </summary>
internal sealed class BoundedBlockPoolFactory : IMemoryPoolFactory<byte>
{
    /// <summary>
    /// The pinned blocks, 2,048 of 4 KiB: a few for each of hundreds of connections, so that steady
    /// traffic rents and returns without allocating.
    /// </summary>
    public const long PinnedBytes = 8L << 20;

    private const long MaxPinnedBlocks = PinnedBytes / BoundedBlockPool.BlockSize;

    private readonly Lock _pools = new();
    private BoundedBlockPool[] _created = [];
    private Counter _pinned;
    private long _spareGeneration;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new BoundedBlockPool(this);
        lock (_pools)
        {
            _created = [.. _created, pool];
        }

        return pool;
    }

    /// <summary>Pinned blocks made so far (they are kept for the life of the process).</summary>
    public long PinnedBlocks => Math.Min(Volatile.Read(ref _pinned.Value), MaxPinnedBlocks);

    /// <summary>Spare blocks made from now on carry this; a block from an earlier one is not kept.</summary>
    public long SpareGeneration => Volatile.Read(ref _spareGeneration);

    /// <summary>
    /// Drops the spare blocks: the idle ones now, the ones lent when they come back. Called by the
    /// trim once a burst is over, before its collection.
    /// </summary>
    public void DropSpare()
    {
        Interlocked.Increment(ref _spareGeneration);
        foreach (var pool in Volatile.Read(ref _created))
        {
            pool.DropSpare();
        }
    }

    /// <summary>Whether one more pinned block may be made (asked only when a pool has no block idle).</summary>
    internal bool TryPin()
    {
        if (Volatile.Read(ref _pinned.Value) >= MaxPinnedBlocks)
        {
            return false;
        }

        return Interlocked.Increment(ref _pinned.Value) <= MaxPinnedBlocks;
    }

    internal void Forget(BoundedBlockPool pool)
    {
        lock (_pools)
        {
            _created = [.. _created.Where(p => p != pool)];
        }
    }

    /// <summary>The count, on its own cache line.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    internal struct Counter
    {
        [FieldOffset(64)]
        public long Value;
    }
}
