using LowLatency.Streams.Events;

namespace LowLatency.Tests.Streams;

/// <summary>One entry of a partition as read back from Redis (XRANGE), for the reference: its ID, position and fields as text.</summary>
internal sealed record LogEntry(string Id, StreamPosition Position, IReadOnlyDictionary<string, string> Fields);
