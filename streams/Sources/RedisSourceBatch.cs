using System.Buffers.Text;
using LowLatency.Streams.Events;
using StackExchange.Redis;
using StreamPosition = LowLatency.Streams.Events.StreamPosition;

namespace LowLatency.Streams.Sources;

/// <summary>Entries of a Redis stream as StackExchange.Redis read them; fields are read as bytes where they lie.</summary>
internal sealed class RedisSourceBatch(StreamEntry[] entries) : ISourceBatch
{
    public static readonly RedisSourceBatch Empty = new([]);

    public StreamEntry[] Entries { get; } = entries;

    public int Count => Entries.Length;

    public string Id(int index) => Entries[index].Id.ToString();

    public long AppendedMs(int index) => ParseId(Entries[index].Id).Major is var ms and <= long.MaxValue ? (long)ms : -1;

    public bool Read(int index, EventRecord into, out string? problem)
    {
        var entry = Entries[index];
        EventReader.Begin(into, ParseId(entry.Id));
        bool hasKey = false;
        foreach (var field in entry.Values)
        {
            if (!EventReader.Field(into, ((ReadOnlyMemory<byte>)field.Name).Span, ((ReadOnlyMemory<byte>)field.Value).Span, ref hasKey, out problem))
            {
                return false;
            }
        }

        return EventReader.End(into, hasKey, out problem);
    }

    /// <summary>A stream ID, <c>ms-seq</c>, as a position.</summary>
    public static StreamPosition ParseId(RedisValue id)
    {
        var span = ((ReadOnlyMemory<byte>)id).Span;
        int dash = span.IndexOf((byte)'-');
        if (dash < 0 || !Utf8Parser.TryParse(span[..dash], out ulong ms, out _) || !Utf8Parser.TryParse(span[(dash + 1)..], out ulong seq, out _))
        {
            return default;
        }

        return new StreamPosition(ms, seq);
    }
}
