using LowLatency.Streams.Events;

namespace LowLatency.Streams.Sources;

/// <summary>
/// Entries of one partition as a source read them, in the partition's order. A source parses its own
/// format (Redis stream fields here; a Kafka source's records) into the reused <see cref="EventRecord"/>.
/// </summary>
public interface ISourceBatch
{
    int Count { get; }

    /// <summary>Fills <paramref name="into"/> from entry <paramref name="index"/>; false with the reason when it is malformed.</summary>
    bool Read(int index, EventRecord into, out string? problem);

    /// <summary>The entry's position as the source writes it (a Redis stream ID), for checkpoints and dead letters.</summary>
    string Id(int index);

    /// <summary>The time the entry was appended, ms since the Unix epoch, where the source knows it (a Redis stream ID's first part); else -1.</summary>
    long AppendedMs(int index);
}
