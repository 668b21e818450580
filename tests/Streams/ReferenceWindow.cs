namespace LowLatency.Tests.Streams;

/// <summary>A window as the reference keeps it: its bounds and the entries it took, in partition order.</summary>
internal sealed class ReferenceWindow(long start, long end)
{
    public long Start { get; set; } = start;

    public long End { get; set; } = end;

    public List<LogEntry> Events { get; } = [];
}
