using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace LowLatency.Streams.Diagnostics;

/// <summary>
/// The stream processor through System.Diagnostics.Metrics (meter <c>LowLatency.Streams</c>): entries
/// read, late updates (an event's update of a window already written, one per window), events dropped
/// as later than the allowed lateness, entries refused at the per-key state cap, each of these tagged
/// <c>stream</c> (the source's stream, so processors of several sources in one process are told
/// apart), rows written; how long after its end
/// (wall clock) a window's row was handed to the store (fire delay), a checkpoint's duration; and per
/// owned partition, tagged <c>partition</c>, the watermark's lag behind the wall clock, the consumer
/// lag (entries not yet read, or read and not checkpointed), keys and state bytes. Counters are added
/// once per batch, not per event.
/// </summary>
public static class StreamMetrics
{
    public const string MeterName = "LowLatency.Streams";

    private static readonly Meter Meter = new(MeterName, "1.0");
    private static readonly ConcurrentDictionary<IPartitionGauges, byte> Processors = new();

    private static readonly Counter<long> EventsIn = Meter.CreateCounter<long>("events.in", "{entry}", "Entries read from the source: events and watermark heartbeats");
    private static readonly Counter<long> EventsLate = Meter.CreateCounter<long>("events.late", "{update}", "(event, window) pairs: an event's update of a window already written (within the allowed lateness); one event updates several overlapping sliding windows");
    private static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>("events.dropped", "{event}", "(event, view) pairs dropped as later than the allowed lateness, or unreadable; each written to the dead-letter stream");
    private static readonly Counter<long> CapHits = Meter.CreateCounter<long>("state.cap_hits", "{event}", "(event, view) pairs refused because the key's windows were at the per-key state cap");
    private static readonly Counter<long> RowsWritten = Meter.CreateCounter<long>("rows.written", "{row}", "Window values handed to the online store");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("failures", "{failure}", "Times a processor's loop stopped on an error it could not go on from: it computes nothing more until restarted");
    private static readonly Histogram<long> FireDelay = Meter.CreateHistogram<long>("window.fire_delay", "ms", "Wall clock at a window's write minus its end: the watermark delay plus processing");
    private static readonly Histogram<double> CheckpointDuration = Meter.CreateHistogram<double>("checkpoint.duration", "ms", "One partition's checkpoint: the store's writes awaited, then the state, position, acknowledgements and dead letters in one script");

    static StreamMetrics()
    {
        Meter.CreateObservableGauge("watermark.lag", static () => Gauge(static p => p.WatermarkLagMs), "ms", "Wall clock minus the partition's watermark");
        Meter.CreateObservableGauge("consumer.lag", static () => Gauge(static p => p.ConsumerLag), "{entry}", "Entries of the partition not yet read, or read and not checkpointed");
        Meter.CreateObservableGauge("state.keys", static () => Gauge(static p => p.Keys), "{key}", "Keys with open windows in the partition");
        Meter.CreateObservableGauge("state.bytes", static () => Gauge(static p => p.StateBytes), "By", "The partition's windows as counted against the per-key cap");
    }

    public static void Register(IPartitionGauges processor) => Processors.TryAdd(processor, 0);

    public static void Unregister(IPartitionGauges processor) => Processors.TryRemove(processor, out _);

    public static void RecordBatch(string stream, long entries, long late, long dropped, long capHits)
    {
        var tag = new KeyValuePair<string, object?>("stream", stream);
        EventsIn.Add(entries, tag);
        if (late != 0)
        {
            EventsLate.Add(late, tag);
        }

        if (dropped != 0)
        {
            EventsDropped.Add(dropped, tag);
        }

        if (capHits != 0)
        {
            CapHits.Add(capHits, tag);
        }
    }

    public static void RecordRows(long rows) => RowsWritten.Add(rows);

    public static void CountFailure() => Failures.Add(1);

    public static void RecordFireDelay(long ms) => FireDelay.Record(ms);

    public static void RecordCheckpoint(double ms) => CheckpointDuration.Record(ms);

    private static IEnumerable<Measurement<long>> Gauge(Func<(int Partition, long WatermarkLagMs, long ConsumerLag, long Keys, long StateBytes), long> pick)
    {
        foreach (var processor in Processors.Keys)
        {
            foreach (var p in processor.Partitions())
            {
                yield return new Measurement<long>(pick(p), new KeyValuePair<string, object?>("partition", p.Partition));
            }
        }
    }
}
