using System.Numerics;
using System.Runtime.InteropServices;

namespace LowLatency.Engine.Scheduling;

/// <summary>
/// The queue's two positions: producers hammer Enqueue, the consumer Dequeue; each on its own cache
/// line, padded on both sides (a top-level type: generic types cannot have explicit layout).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct QueuePositions
{
    [FieldOffset(64)]
    public long Enqueue;

    [FieldOffset(128)]
    public long Dequeue;
}
