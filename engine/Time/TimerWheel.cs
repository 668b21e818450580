using System.Numerics;

namespace LowLatency.Engine.Time;

/// <summary>
/// A hierarchical hashed timer wheel (as in Varghese and Lauck, the Linux kernel, Kafka's TimingWheel):
/// four levels of 256 buckets, a tick being whatever unit the owner chooses (the scheduler uses 1 µs:
/// level 0 spans 256 µs, level 1 65 ms, level 2 16.7 s, level 3 71 minutes; farther deadlines are
/// re-cascaded). Insert and cancel are O(1) on intrusive nodes. <see cref="Advance"/> jumps over empty
/// stretches with per-level occupancy bitmaps, so an idle wheel costs nothing to advance.
/// Single-threaded: owned by the scheduling thread; submitters never touch it.
/// </summary>
internal sealed class TimerWheel
{
    private const int Bits = 8;
    private const int Slots = 1 << Bits;
    private const int Mask = Slots - 1;
    private const int Levels = 4;

    private readonly TimerNode?[] _buckets = new TimerNode?[Levels * Slots];
    private readonly ulong[] _occupied = new ulong[Levels * Slots / 64];
    private long _now;

    public TimerWheel(long now = 0)
    {
        _now = now;
    }

    /// <summary>Every timer with a deadline at or before this tick has fired.</summary>
    public long Now => _now;

    public int Count { get; private set; }

    /// <summary>Schedules <paramref name="node"/> at <paramref name="deadline"/>; a past deadline fires at the next advance.</summary>
    public void Schedule(TimerNode node, long deadline)
    {
        if (node.Bucket >= 0)
        {
            Cancel(node);
        }

        node.Deadline = deadline;
        Insert(node, _now + 1);
        Count++;
    }

    /// <summary>Removes a scheduled node; does nothing for one that is not scheduled.</summary>
    public void Cancel(TimerNode node)
    {
        int b = node.Bucket;
        if (b < 0)
        {
            return;
        }

        if (node.Prev is null)
        {
            _buckets[b] = node.Next;
            if (node.Next is null)
            {
                _occupied[b >> 6] &= ~(1UL << (b & 63));
            }
        }
        else
        {
            node.Prev.Next = node.Next;
        }

        if (node.Next is not null)
        {
            node.Next.Prev = node.Prev;
        }

        node.Next = node.Prev = null;
        node.Bucket = -1;
        Count--;
    }

    /// <summary>
    /// A tick at or before the earliest deadline in the wheel (exact for deadlines within level 0's
    /// 256 ticks; a level's bucket start beyond that): the owner may sleep until then. MaxValue if empty.
    /// </summary>
    public long NextExpiry()
    {
        if (Count == 0)
        {
            return long.MaxValue;
        }

        long best = long.MaxValue;
        for (int level = 0; level < Levels; level++)
        {
            int shift = Bits * level;
            int current = (int)((_now >> shift) & Mask);
            long blockStart = (_now >> (shift + Bits)) << (shift + Bits);

            // A bucket after the current one in this block; else, in the next block, any bucket up to
            // and including the current one (an upper level's current bucket holds the next cycle:
            // whatever belonged to this cycle was cascaded when its range began).
            int slot = current == Mask ? -1 : NextOccupied(level, current + 1);
            if (slot < 0)
            {
                slot = NextOccupied(level, 0);
                if (slot < 0 || slot > current)
                {
                    continue;
                }

                blockStart += 1L << (shift + Bits);
            }

            // Exact for level 0; for an upper level, the start of the bucket's range, where it cascades.
            best = Math.Min(best, blockStart + ((long)slot << shift));
        }

        return best;
    }

    /// <summary>Fires, tick by tick, every timer due at or before <paramref name="now"/>.</summary>
    public void Advance<TCallback>(long now, ref TCallback callback)
        where TCallback : struct, ITimerCallback
    {
        while (_now < now)
        {
            if (Count == 0)
            {
                _now = now;
                return;
            }

            // Jump to the next tick that matters: an occupied level-0 bucket, or the end of the current
            // 256-tick block, where the upper levels cascade down.
            int current = (int)(_now & Mask);
            int slot = current == Mask ? -1 : NextOccupied(0, current + 1);
            long next = slot >= 0 ? (_now & ~(long)Mask) + slot : (_now | Mask) + 1;
            if (next > now)
            {
                _now = now;
                return;
            }

            _now = next;
            if ((next & Mask) == 0)
            {
                Cascade(next);
            }

            Fire(next & Mask, ref callback);
        }
    }

    private void Fire<TCallback>(long slot, ref TCallback callback)
        where TCallback : struct, ITimerCallback
    {
        int b = (int)slot;
        while (_buckets[b] is { } node)
        {
            Cancel(node);
            callback.OnExpired(node);
        }
    }

    private void Cascade(long tick)
    {
        for (int level = 1; level < Levels; level++)
        {
            int shift = Bits * level;
            int slot = (int)((tick >> shift) & Mask);
            int b = (level * Slots) + slot;
            var node = _buckets[b];
            _buckets[b] = null;
            _occupied[b >> 6] &= ~(1UL << (b & 63));
            while (node is not null)
            {
                var next = node.Next;
                node.Next = node.Prev = null;
                // Cascading happens at the tick being processed, before its bucket fires: a node due
                // exactly now goes into that bucket.
                Insert(node, _now);
                node = next;
            }

            if (slot != 0)
            {
                break;
            }
        }
    }

    private void Insert(TimerNode node, long earliest)
    {
        long deadline = Math.Max(node.Deadline, earliest);
        long delta = deadline - _now;
        int level = delta < Slots ? 0 : delta < Slots * Slots ? 1 : delta < Slots * Slots * Slots ? 2 : 3;
        if (level == 3 && delta >= 1L << (Bits * Levels))
        {
            // Beyond the wheel's span: park it in the farthest bucket; it is re-cascaded until near.
            deadline = _now + (1L << (Bits * Levels)) - 1;
        }

        int b = (level * Slots) + (int)((deadline >> (Bits * level)) & Mask);
        var head = _buckets[b];
        node.Next = head;
        node.Prev = null;
        if (head is not null)
        {
            head.Prev = node;
        }

        _buckets[b] = node;
        _occupied[b >> 6] |= 1UL << (b & 63);
        node.Bucket = b;
    }

    /// <summary>The first occupied bucket of <paramref name="level"/> at or after <paramref name="from"/>, or -1.</summary>
    private int NextOccupied(int level, int from)
    {
        if (from >= Slots)
        {
            return -1;
        }

        int word = ((level * Slots) + from) >> 6;
        int last = ((level * Slots) + Slots - 1) >> 6;
        ulong bits = _occupied[word] & (ulong.MaxValue << (from & 63));
        while (true)
        {
            if (bits != 0)
            {
                return (word << 6) + BitOperations.TrailingZeroCount(bits) - (level * Slots);
            }

            if (++word > last)
            {
                return -1;
            }

            bits = _occupied[word];
        }
    }
}
