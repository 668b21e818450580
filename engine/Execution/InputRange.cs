namespace LowLatency.Engine.Execution;

/// <summary>Where one input's bytes lie for the batch being run: an output that overlaps them is a view of an input.</summary>
internal readonly unsafe struct InputRange(byte* start, long bytes)
{
    private readonly byte* _start = start;
    private readonly long _bytes = bytes;

    public bool Overlaps(byte* data, long bytes) => data < _start + _bytes && _start < data + bytes;
}
