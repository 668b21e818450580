using System.Globalization;
using System.Text;
using LowLatency.Features.Store;
using LowLatency.Streams.Events;
using LowLatency.Streams.Windows;

namespace LowLatency.Tests.Streams;

/// <summary>One partition's engine alone: bounded state (closed windows dropped, a per-key cap on open windows with its count and dead letters).</summary>
public sealed class PartitionEngineTests
{
    private const long T0 = 1_700_000_000_000;

    [Fact]
    public void Closed_windows_leave_the_state_and_count_against_no_cap()
    {
        using var repo = new StreamRepository(port: 1, partitions: 1, delayMs: 0, tumblingMs: 100, tumblingLateMs: 0);
        var (views, schema) = Tumbling(repo);
        var engine = new PartitionEngine(views, 0, views[0].WindowBytes * 3);
        var record = new EventRecord(schema);
        var emitter = new Emitted();

        Apply(engine, record, 1, T0 + 350, 0);
        Apply(engine, record, 1, T0 + 50, 1);
        Assert.Equal(1, Assert.Single(engine.DeadLetters).Entry);
        Assert.StartsWith("late:", engine.DeadLetters[0].Reason, StringComparison.Ordinal);

        // Four windows of key 2 in one batch: the watermark closes each before the next opens, so the
        // cap of three is never reached, whether or not a flush ran in between.
        for (int w = 0; w < 4; w++)
        {
            Apply(engine, record, 2, T0 + 400 + (w * 100), 10 + w);
        }

        Assert.Equal(0, engine.Counters.CapHits);
        engine.Fire(engine.Watermark, emitter);
        engine.Flush(emitter);
        Assert.Equal(1, engine.KeyCount);
        Assert.Equal(views[0].WindowBytes, engine.StateBytes);
        Assert.Equal(4, emitter.Rows);
    }

    [Fact]
    public void A_key_whose_open_windows_are_at_the_cap_is_refused_a_new_one()
    {
        using var repo = new StreamRepository(port: 1, partitions: 1, delayMs: 10_000, tumblingMs: 100, tumblingLateMs: 0);
        var (views, schema) = Tumbling(repo);
        long cap = views[0].WindowBytes * 3;
        var engine = new PartitionEngine(views, 10_000, cap);
        var record = new EventRecord(schema);
        for (int w = 0; w < 4; w++)
        {
            Apply(engine, record, 3, T0 + (w * 100), 20 + w);
        }

        Apply(engine, record, 3, T0 + 10, 24);
        Assert.Equal(1, engine.Counters.CapHits);
        Assert.Equal(23, Assert.Single(engine.DeadLetters).Entry);
        Assert.StartsWith("key_state_cap", engine.DeadLetters[0].Reason, StringComparison.Ordinal);
        Assert.Equal(cap, engine.StateBytes);
    }

    private static (ViewProgram[] Views, EventSchema Schema) Tumbling(StreamRepository repo)
    {
        var schema = new EventSchema(repo.Source);
        return ([new ViewProgram(repo.Repository.FeatureView("tumbling")!, 0, schema)], schema);
    }

    private static void Apply(PartitionEngine engine, EventRecord record, long key, long time, int entry)
    {
        EventReader.Begin(record, new StreamPosition(1, (ulong)entry));
        bool hasKey = false;
        EventReader.Field(record, "user_id"u8, Encoding.ASCII.GetBytes(key.ToString(CultureInfo.InvariantCulture)), ref hasKey, out _);
        EventReader.Field(record, "ts"u8, Encoding.ASCII.GetBytes(time.ToString(CultureInfo.InvariantCulture)), ref hasKey, out _);
        Assert.True(EventReader.End(record, hasKey, out _));
        engine.Apply(record, entry);
    }

    private sealed class Emitted : IWindowEmitter
    {
        public int Rows { get; private set; }

        public void Emit(ViewProgram view, EntityKey key, WindowState window) => Rows++;
    }
}
