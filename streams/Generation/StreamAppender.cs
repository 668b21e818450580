using System.Diagnostics;
using System.Globalization;
using LowLatency.Features.Definitions;
using LowLatency.Streams.Events;
using StackExchange.Redis;

namespace LowLatency.Streams.Generation;

/// <summary>
/// A producer: appends events to a source's partitions, each to the partition its key hashes to
/// (<see cref="StreamPartitioner"/>), pipelined (a window of appends in flight, not a round trip each),
/// as fields <c>&lt;key field&gt;</c>, <c>&lt;timestamp field&gt;</c>, <c>type</c>, <c>item_id</c>,
/// <c>dwell_ms</c>. A heartbeat entry (<c>_wm</c>) advances a partition's watermark with no event.
/// </summary>
public sealed class StreamAppender(IDatabase db, StreamSource source)
{
    private const int Window = 2000;

    private readonly RedisValue _keyField = source.KeyField;
    private readonly RedisValue _timeField = source.TimestampField;
    private readonly List<Task> _inflight = new(Window);

    public long Appended { get; private set; }

    public Task<RedisValue> Append(GeneratedEvent e)
    {
        int p = StreamPartitioner.Partition(e.UserId, source.Partitions);
        var task = db.StreamAddAsync(source.PartitionStream(p), [
            new NameValueEntry(_keyField, e.UserId),
            new NameValueEntry(_timeField, e.TimeMs),
            new NameValueEntry("type", e.Click ? "click" : "impression"),
            new NameValueEntry("item_id", e.ItemId),
            new NameValueEntry("dwell_ms", e.DwellMs),
        ]);
        Appended++;
        _inflight.Add(task);
        if (_inflight.Count >= Window)
        {
            Task.WaitAll([.. _inflight]);
            _inflight.Clear();
        }

        return task;
    }

    /// <summary>A heartbeat at <paramref name="timeMs"/> into every partition.</summary>
    public void Heartbeat(long timeMs)
    {
        for (int p = 0; p < source.Partitions; p++)
        {
            _inflight.Add(db.StreamAddAsync(source.PartitionStream(p), EventSchema.HeartbeatField, timeMs.ToString(CultureInfo.InvariantCulture)));
        }
    }

    public async Task FlushAsync()
    {
        await Task.WhenAll(_inflight).ConfigureAwait(false);
        _inflight.Clear();
    }

    /// <summary>Generates and appends <see cref="EventGeneratorOptions.Count"/> events, paced to the rate when one is set.</summary>
    public async Task RunAsync(EventGenerator generator, EventGeneratorOptions options, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < options.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            if (options.Rate > 0)
            {
                double due = i / options.Rate;
                double ahead = due - clock.Elapsed.TotalSeconds;
                if (ahead > 0.002)
                {
                    await FlushAsync().ConfigureAwait(false);
                    await Task.Delay(TimeSpan.FromSeconds(ahead), cancellationToken).ConfigureAwait(false);
                }
            }

            _ = Append(generator.Next(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        }

        await FlushAsync().ConfigureAwait(false);
    }
}
