using System.Buffers;
using LowLatency.Streams.Events;
using LowLatency.Streams.Sources;
using LowLatency.Streams.Windows;

namespace LowLatency.Streams.Processing;

/// <summary>
/// One owned partition: its log, its engine, the reused event record, what its next checkpoint holds,
/// when an entry last arrived (on the processor's <see cref="TimeProvider"/>: idleness is processing
/// time), and its next poll and last checkpoint (on the monotonic clock).
/// </summary>
internal sealed class PartitionWorker(IPartitionLog log, PartitionEngine engine, EventSchema schema, long now, long processingNow)
{
    public IPartitionLog Log { get; } = log;

    public PartitionEngine Engine { get; } = engine;

    public EventRecord Record { get; } = new(schema);

    /// <summary>What the next checkpoint holds, filling as batches are applied.</summary>
    public CheckpointDelta Delta { get; set; } = new();

    /// <summary>The delta and state bytes of the checkpoint in flight, or free for the next one.</summary>
    public CheckpointDelta SpareDelta { get; set; } = new();

    public ArrayBufferWriter<byte> Buffer { get; set; } = new(1 << 16);

    public ArrayBufferWriter<byte> SpareBuffer { get; set; } = new(1 << 16);

    /// <summary>The checkpoint in flight: true once committed, false when the lease was lost.</summary>
    public Task<bool>? Committing { get; set; }

    public long CommitStarted { get; set; }

    public Task<ISourceBatch>? Read { get; set; }

    /// <summary>When an entry last arrived; the partition is idle once this is older than the idle timeout.</summary>
    public long LastEntryAt { get; set; } = processingNow;

    public long NextPollAt { get; set; } = now;

    public long PollBackoff { get; set; }

    public long LastCheckpointAt { get; set; } = now;

    public EngineCounters Reported { get; set; }

    public long ConsumerLag { get; set; } = -1;
}
