namespace LowLatency.Streams.Sources;

/// <summary>
/// A partitioned source shared by processor processes: each announces itself (<see cref="HeartbeatAsync"/>
/// answers the partitions it should own now, so that partitions move when a process joins or leaves)
/// and takes a partition only through its lease, which lapses when the process dies.
/// </summary>
public interface IStreamSource : IAsyncDisposable
{
    Features.Definitions.StreamSource Definition { get; }

    /// <summary>This process's name among the members.</summary>
    string Member { get; }

    Task<IReadOnlySet<int>> HeartbeatAsync();

    /// <summary>The partition's log, or null while another process holds its lease.</summary>
    Task<IPartitionLog?> TryAcquireAsync(int partition);

    /// <summary>Entries appended and not yet read by the group, per partition; -1 where unknown.</summary>
    Task<long> LagAsync(int partition);

    /// <summary>Leaves the members, so the others rebalance at once instead of after the heartbeat lapses.</summary>
    Task LeaveAsync();
}
