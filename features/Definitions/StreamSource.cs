namespace LowLatency.Features.Definitions;

/// <summary>
/// A partitioned event stream that stream feature views aggregate: partition <c>n</c> of it is the
/// Redis stream <c>&lt;stream&gt;:&lt;n&gt;</c>, to which producers append each event after hashing its
/// key (<see cref="KeyField"/>) to pick the partition, so every entity has one partition and one
/// owner. Event times are in <see cref="TimestampField"/>, ms since the Unix epoch; a partition's
/// watermark trails the largest event time it has seen by <see cref="WatermarkDelayMs"/>.
/// </summary>
public sealed class StreamSource
{
    public required string Name { get; init; }

    /// <summary>The partitions' common prefix: partition n is <c>&lt;Stream&gt;:&lt;n&gt;</c>.</summary>
    public required string Stream { get; init; }

    public required int Partitions { get; init; }

    /// <summary>The event field holding the entity id; it is the join key of every view over the source.</summary>
    public required string KeyField { get; init; }

    /// <summary>The event field holding the event time, ms since the Unix epoch.</summary>
    public required string TimestampField { get; init; }

    /// <summary>The out-of-orderness bound (Feast's <c>watermark_delay_threshold</c>).</summary>
    public required long WatermarkDelayMs { get; init; }

    /// <summary>Processing time without an entry after which a partition stops holding the watermark back.</summary>
    public required long IdleTimeoutMs { get; init; }

    /// <summary>Where events too late for a window, or unreadable, are written with the reason.</summary>
    public required string DeadLetterStream { get; init; }

    /// <summary>The views it feeds, in definition order.</summary>
    public IReadOnlyList<FeatureView> Views { get; internal set; } = [];

    public string Description { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public string File { get; init; } = string.Empty;

    /// <summary>The Redis stream of partition <paramref name="partition"/>.</summary>
    public string PartitionStream(int partition) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Stream}:{partition}");
}
