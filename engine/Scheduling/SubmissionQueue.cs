using System.Numerics;
using System.Runtime.InteropServices;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// A bounded multi-producer queue over a preallocated ring (Dmitry Vyukov's design): each cell carries
/// a sequence number that says whether it is free for the producer at that position or filled for the
/// consumer. Enqueue is one compare-and-swap on the tail, never a lock and never an allocation
/// (<see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> allocates a new segment as it
/// fills: docs/performance.md#submission-queue). One consumer at a time: the holder of the

/// scheduling step, whose acquire and release are full fences.
/// </summary>
internal sealed class SubmissionQueue<T>
    where T : class
{
    private readonly Cell[] _cells;
    private readonly long _mask;
    private QueuePositions _positions;

    public SubmissionQueue(int capacity)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, capacity));
        _cells = new Cell[size];
        _mask = size - 1;
        for (int i = 0; i < size; i++)
        {
            _cells[i].Sequence = i;
        }
    }

    public int Capacity => _cells.Length;

    public bool IsEmpty
    {
        get
        {
            long pos = Volatile.Read(ref _positions.Dequeue);
            return Volatile.Read(ref _cells[pos & _mask].Sequence) != pos + 1;
        }
    }

    /// <summary>Any thread; false when the ring is full.</summary>
    public bool TryEnqueue(T item)
    {
        long pos = Volatile.Read(ref _positions.Enqueue);
        while (true)
        {
            ref var cell = ref _cells[pos & _mask];
            long diff = Volatile.Read(ref cell.Sequence) - pos;
            if (diff == 0)
            {
                long seen = Interlocked.CompareExchange(ref _positions.Enqueue, pos + 1, pos);
                if (seen == pos)
                {
                    cell.Item = item;
                    // Publishes the item: the consumer reads Sequence first, then Item.
                    Volatile.Write(ref cell.Sequence, pos + 1);
                    return true;
                }

                pos = seen;
            }
            else if (diff < 0)
            {
                return false;
            }
            else
            {
                pos = Volatile.Read(ref _positions.Enqueue);
            }
        }
    }

    /// <summary>The consumer (one at a time).</summary>
    public bool TryDequeue(out T item)
    {
        long pos = Volatile.Read(ref _positions.Dequeue);
        ref var cell = ref _cells[pos & _mask];
        if (Volatile.Read(ref cell.Sequence) != pos + 1)
        {
            item = null!;
            return false;
        }

        item = cell.Item!;
        cell.Item = null;
        // Frees the cell for the producer one lap ahead.
        Volatile.Write(ref cell.Sequence, pos + _mask + 1);
        Volatile.Write(ref _positions.Dequeue, pos + 1);
        return true;
    }

    private struct Cell
    {
        public long Sequence;
        public T? Item;
    }
}
