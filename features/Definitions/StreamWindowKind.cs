namespace LowLatency.Features.Definitions;

/// <summary>How a stream view cuts event time into windows, per entity.</summary>
public enum StreamWindowKind
{
    /// <summary>Fixed, aligned, non-overlapping windows of one size.</summary>
    Tumbling,

    /// <summary>Fixed, aligned windows of one size that start every slide (hopping): an event lies in size / slide of them.</summary>
    Sliding,

    /// <summary>An entity's events closer than the gap to each other, merged into one window.</summary>
    Session,
}
