using System.Diagnostics.Metrics;
using LowLatency.Features.Store;
using LowLatency.Streams.Diagnostics;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using StackExchange.Redis;

namespace LowLatency.Tests.Streams;

/// <summary>
/// Allowed lateness as the store shows it: a fired window's late event replaces its row (a higher
/// revision at the same event time); an event past the lateness goes to the dead letters with its
/// reason; and both are counted in <c>events.late</c> and <c>events.dropped</c>, per window and per
/// view, across the repository's three views (tumbling 1000 ms with 600 ms lateness, sliding 2000 ms
/// by 500 ms with 300 ms, session with a 300 ms gap and 200 ms).
/// </summary>
public sealed class LatenessTests(StreamsRedisFixture redis) : IClassFixture<StreamsRedisFixture>
{
    [RedisFact]
    public async Task A_late_event_replaces_the_windows_row_and_one_past_the_lateness_is_dead_lettered_with_its_reason()
    {
        using var repo = new StreamRepository(redis.Port, partitions: 1, delayMs: 0, tumblingMs: 1000, tumblingLateMs: 600);
        var view = repo.Repository.FeatureView("tumbling")!;
        long t0 = 1_700_000_000_000;
        await using var store = await RedisOnlineStore.ConnectAsync(repo.Repository.OnlineStore("default")!, repo.Repository);
        await using var source = await RedisStreamSource.ConnectAsync(redis.ConnectionString, repo.Source, "ll-streams", "late-test", 2000);
        // Tagged with this test's stream: other tests' processors in this process count too.
        long late = 0, dropped = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == StreamMetrics.MeterName && instrument.Name is "events.late" or "events.dropped")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == "stream" && (string?)t.Value == repo.Stream)
                {
                    Interlocked.Add(ref instrument.Name == "events.late" ? ref late : ref dropped, value);
                }
            }
        });
        listener.Start();
        var processor = new StreamProcessor(StreamRun.Options(), repo.Source, source, store);
        processor.Start();
        try
        {
            // Two events in [t0, t0 + 1000), then one at t0 + 1500: the watermark (t0 + 1499) passes the
            // window's end and it fires with 2 events, revision 2, as of its end.
            await Append(t0 + 100, 40);
            await Append(t0 + 200, 60);
            await Append(t0 + 1500, 1);
            var row = await RowAsync(r => r.EventTimeMicros == (t0 + 1000) * 1000);
            Assert.Equal(2L, Events(row));
            Assert.Equal(2, await RevisionAsync());

            // Late (behind the watermark) but within the 600 ms lateness: the row is replaced, not added to.
            await Append(t0 + 300, 20);
            row = await RowAsync(r => Events(r) == 3);
            Assert.Equal((t0 + 1000) * 1000, row.EventTimeMicros);
            Assert.Equal(3, await RevisionAsync());
            Assert.Equal(40f, BitConverter.ToSingle(row.Destination.Span.Slice(view.Feature("dwell_mean")!.Offset, 4)));

            // Counted as its batch was applied, before the row was written. Late updates: the tumbling
            // window and the sliding [t0 − 500, t0 + 1500) (fired, open until t0 + 1799); the sliding
            // [t0, t0 + 2000) has not fired, and [t0 − 1000, t0 + 1000) is closed. Dropped: the session
            // view, whose [t0 + 100, t0 + 500) closed at t0 + 699.
            Assert.Equal(2, Interlocked.Read(ref late));
            Assert.Equal(1, Interlocked.Read(ref dropped));

            // Past the lateness (the watermark t0 + 2199 ≥ end − 1 + 600): dropped with its reason.
            // The watermark t0 + 2199 fires [t0 + 1000, t0 + 2000), and with it the sliding [t0, t0 + 2000),
            // which the next event then updates late (open until t0 + 2299).
            await Append(t0 + 2200, 1);
            var final = await RowAsync(r => r.EventTimeMicros == (t0 + 2000) * 1000);
            Assert.Equal(1L, Events(final));
            await Append(t0 + 400, 1000);
            Assert.True(await Poll.UntilAsync(() => redis.Db.StreamRange(repo.Source.DeadLetterStream).Any(d => d["view"] == "tumbling"), TimeSpan.FromSeconds(10)), "no dead letter");
            var dead = (await redis.Db.StreamRangeAsync(repo.Source.DeadLetterStream)).Single(d => d["view"] == "tumbling");
            Assert.StartsWith("late: event time 1700000000400 is past every window's allowed lateness (600 ms) at the partition's watermark 1700000002199", dead["reason"].ToString(), StringComparison.Ordinal);
            Assert.Equal("1000", dead["dwell_ms"].ToString());
            Assert.Equal("0", dead["partition"].ToString());
            await StreamLog.WaitCheckpointedAsync(redis.Db, repo.Source, TimeSpan.FromSeconds(10));

            // The event past the tumbling lateness is dropped there and in the session view (its
            // [t0 + 400, t0 + 700) closed at t0 + 899), and a late update of the sliding [t0, t0 + 2000).
            Assert.Equal(3, Interlocked.Read(ref late));
            Assert.Equal(3, Interlocked.Read(ref dropped));
            var views = (await redis.Db.StreamRangeAsync(repo.Source.DeadLetterStream)).Select(d => d["view"].ToString()).Order(StringComparer.Ordinal);
            Assert.Equal(["session", "session", "tumbling"], views);
        }
        finally
        {
            await processor.StopAsync();
        }

        Assert.Null(processor.Failure);

        Task<RedisValue> Append(long time, long dwell) =>
            redis.Db.StreamAddAsync(repo.Source.PartitionStream(0), [new("user_id", 1), new("ts", time), new("type", "impression"), new("item_id", 1), new("dwell_ms", dwell)]);

        long Events(RowRead r) => BitConverter.ToInt64(r.Destination.Span.Slice(view.Feature("events")!.Offset, 8));

        async Task<RowRead> RowAsync(Func<RowRead, bool> wanted)
        {
            RowRead read = default;
            bool found = await Poll.UntilAsync(() =>
            {
                var rows = new[] { new RowRead(view, EntityKey.Of(1), new byte[view.RowBytes]) };
                store.ReadAsync(rows).AsTask().GetAwaiter().GetResult();
                read = rows[0];
                return read.State == RowState.Found && wanted(read);
            }, TimeSpan.FromSeconds(10));
            Assert.True(found, $"the row never became what was expected; last read: {read.State} at {read.EventTimeMicros}");
            return read;
        }

        async Task<int> RevisionAsync()
        {
            byte[] raw = (byte[])(await redis.Db.StringGetAsync($"{repo.Repository.Project}:tumbling:{{user_id=1}}"))!;
            return (raw[1] << 16) | (raw[2] << 8) | raw[3];
        }
    }
}
