namespace LowLatency.Streams.Sources;

/// <summary>
/// One partition while this process holds its lease (epoch <see cref="Epoch"/>). Reads resume after
/// the last checkpoint's position and return the partition's entries in order with no gap, whoever
/// read them before; <see cref="CommitAsync"/> makes state, position, acknowledgements and dead letters
/// durable together and is refused once the lease is lost, so a process that lost it cannot overwrite
/// the new owner's state. A Kafka source would map this onto a transactional producer (its epoch the
/// fence, the state a changelog topic, the offsets sent to the transaction).
/// </summary>
public interface IPartitionLog
{
    int Partition { get; }

    long Epoch { get; }

    Task<PartitionCheckpoint> LoadAsync();

    /// <summary>Up to <paramref name="max"/> entries; none when nothing is there yet (poll again).</summary>
    Task<ISourceBatch> ReadAsync(int max);

    /// <summary>Extends the lease; false when it was lost (expired, or another process holds it).</summary>
    Task<bool> RenewAsync();

    /// <summary>False when the lease was lost: nothing was written.</summary>
    Task<bool> CommitAsync(CheckpointDelta delta);

    Task ReleaseAsync();
}
