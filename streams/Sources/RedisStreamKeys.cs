using System.Globalization;
using LowLatency.Features.Definitions;
using StackExchange.Redis;

namespace LowLatency.Streams.Sources;

/// <summary>
/// The Redis keys of one partition for one consumer group: the stream <c>&lt;stream&gt;:&lt;n&gt;</c>
/// itself, and beside it <c>&lt;stream&gt;:&lt;n&gt;:&lt;group&gt;:</c> <c>lease</c> (the holder's token,
/// expiring), <c>epoch</c> (counts leases granted: the fence), <c>meta</c> (position, largest event
/// time) and <c>state</c> (a hash of each key's windows); <c>&lt;stream&gt;:&lt;group&gt;:members</c> (the
/// processes, by heartbeat expiry) and the dead-letter stream. One server holds them all: the checkpoint
/// script touches the stream, its state and the dead-letter stream in one step.
/// </summary>
public sealed class RedisStreamKeys(StreamSource source, string group, int partition)
{
    public RedisKey Stream { get; } = source.PartitionStream(partition);

    public RedisKey Lease { get; } = Prefix(source, group, partition) + "lease";

    public RedisKey Epoch { get; } = Prefix(source, group, partition) + "epoch";

    public RedisKey Meta { get; } = Prefix(source, group, partition) + "meta";

    public RedisKey State { get; } = Prefix(source, group, partition) + "state";

    public RedisKey DeadLetters { get; } = source.DeadLetterStream;

    public static RedisKey Members(StreamSource source, string group) => $"{source.Stream}:{group}:members";

    private static string Prefix(StreamSource source, string group, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{source.Stream}:{partition}:{group}:");
}
