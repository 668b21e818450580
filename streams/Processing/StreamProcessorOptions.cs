namespace LowLatency.Streams.Processing;

/// <summary>
/// The stream processor's settings (configuration section <c>LowLatency:Streams</c> where the host
/// binds them; <c>--name value</c> arguments of <c>build.ps1 stream</c>). docs/streams.md lists them.
/// </summary>
public sealed class StreamProcessorOptions
{
    /// <summary>The feature repository folder whose stream views to compute.</summary>
    public string Repository { get; set; } = "streams/feature_repo";

    /// <summary>The stream source to read; may be left out when the repository has one.</summary>
    public string? Source { get; set; }

    /// <summary>The Redis server holding the streams, their consumer group, leases and checkpoints (StackExchange.Redis's form).</summary>
    public string ConnectionString { get; set; } = "127.0.0.1:6379";

    /// <summary>The consumer group: processes of one group share the partitions; another group computes the same views apart.</summary>
    public string Group { get; set; } = "ll-streams";

    /// <summary>This process's name among the group's members; made unique from the host name and process id when empty.</summary>
    public string? Member { get; set; }

    /// <summary>Entries per read (XREADGROUP COUNT).</summary>
    public int BatchSize { get; set; } = 2000;

    /// <summary>How often each partition's state is checkpointed (when it changed).</summary>
    public int CheckpointIntervalMs { get; set; } = 200;

    /// <summary>How long a lease (and a membership) lasts without renewal: a process that dies loses its partitions after this.</summary>
    public int LeaseMs { get; set; } = 3000;

    /// <summary>The longest wait between polls of a partition that had nothing (StackExchange.Redis cannot block on a stream).</summary>
    public int MaxPollMs { get; set; } = 4;

    /// <summary>The per-key cap on open windows' bytes; an event that would open a window past it is refused to the dead letters.</summary>
    public long MaxKeyStateBytes { get; set; } = 64 * 1024;
}
