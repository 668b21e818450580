namespace LowLatency.Streams.Windows;

/// <summary>
/// One window of one view for one key: [Start, End) in ms of event time, the events it took
/// (<see cref="Events"/>, also its revision in the store: a window's value is a function of how many
/// of its partition's events it took, so the same revision always carries the same value), whether
/// it was written (<see cref="Fired"/>) and whether it took events since (<see cref="Dirty"/>).
/// </summary>
public sealed class WindowState
{
    public WindowState(long start, long end, int cells, int sketches)
    {
        Start = start;
        End = end;
        Cells = new AggregateCell[cells];
        Sketches = sketches == 0 ? [] : new KmvSketch[sketches];
        for (int i = 0; i < sketches; i++)
        {
            Sketches[i] = new KmvSketch();
        }
    }

    public long Start { get; set; }

    public long End { get; set; }

    public int Events { get; set; }

    public bool Fired { get; set; }

    public bool Dirty { get; set; }

    /// <summary>Set when the window left its key's state (closed, or merged into another session).</summary>
    public bool Gone { get; set; }

    public AggregateCell[] Cells { get; }

    public KmvSketch[] Sketches { get; }
}
