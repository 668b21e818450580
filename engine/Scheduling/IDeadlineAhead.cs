using LowLatency.Native.Threading;

namespace LowLatency.Engine.Scheduling;

/// <summary>Told, its <see cref="Lead"/> before a timed wait's deadline, that it is coming.</summary>
internal interface IDeadlineAhead
{
    /// <summary>How far ahead to tell, and where the wait reports how late its parks returned.</summary>
    WakeLead Lead { get; }

    void OnDeadlineAhead(long deadlineUs);
}
