namespace LowLatency.Tests.Streams;

/// <summary>
/// What the reference computed from a log: every window's final row (view, key, end → revision and
/// packed values), the row the store should hold per (view, key) (its latest window), and the dead
/// letters as (entry ID, view; null for an unreadable entry).
/// </summary>
internal sealed class ReferenceResult
{
    public Dictionary<(string View, long Key, long End), (int Revision, byte[] Row)> Windows { get; } = [];

    public Dictionary<(string View, long Key), (long End, int Revision, byte[] Row)> Latest { get; } = [];

    public List<(string Id, string? View)> DeadLetters { get; } = [];
}
