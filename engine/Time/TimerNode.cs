namespace LowLatency.Engine.Time;

/// <summary>
/// An entry of a <see cref="TimerWheel"/>, intrusive so that scheduling and cancelling allocate
/// nothing: each request owns its timer nodes for life (they are pooled with it).
/// </summary>
internal class TimerNode
{
    internal TimerNode? Next;
    internal TimerNode? Prev;

    /// <summary>Bucket index in the wheel, or -1 when not scheduled.</summary>
    internal int Bucket = -1;

    /// <summary>The tick at which the timer fires.</summary>
    public long Deadline { get; internal set; }

    public bool IsScheduled => Bucket >= 0;
}
