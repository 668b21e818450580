using LowLatency.Features.Store;

namespace LowLatency.Streams.Events;

/// <summary>
/// One entry as the windows read it, filled in place by a source (one instance per partition, reused
/// for every entry: nothing is allocated per event for an INT64 key). Fields are by slot, as
/// <see cref="EventSchema"/> numbers the ones the source's views use.
/// </summary>
public sealed class EventRecord
{
    public EventRecord(EventSchema schema)
    {
        Schema = schema;
        Present = new bool[schema.Fields.Count];
        HasNumber = new bool[schema.Fields.Count];
        Number = new double[schema.Fields.Count];
        Hash = new ulong[schema.Fields.Count];
        Matches = new bool[schema.Filters.Count];
    }

    public EventSchema Schema { get; }

    /// <summary>A producer's watermark heartbeat: advances the partition's event time, carries no key.</summary>
    public bool IsHeartbeat { get; set; }

    public EntityKey Key { get; set; }

    /// <summary>Event time, ms since the Unix epoch.</summary>
    public long Time { get; set; }

    public StreamPosition Position { get; set; }

    public bool[] Present { get; }

    public bool[] HasNumber { get; }

    public double[] Number { get; }

    /// <summary>XxHash64 of the field's bytes, for distinct counts.</summary>
    public ulong[] Hash { get; }

    /// <summary>Whether each of the schema's filters keeps this event.</summary>
    public bool[] Matches { get; }

    public void Clear()
    {
        IsHeartbeat = false;
        Array.Clear(Present);
        Array.Clear(HasNumber);
        Array.Clear(Matches);
    }
}
