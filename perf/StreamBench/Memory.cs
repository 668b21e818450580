using System.Globalization;
using LowLatency.Streams.Events;
using LowLatency.Streams.Windows;

namespace LowLatency.StreamBench;

/// <summary>
/// Memory per active key: one partition's engine (no Redis) given one event for each of n keys, all
/// in one window per view, then the managed heap after a full collection, against the same before;
/// beside it what the engine counts against the per-key cap.
/// </summary>
internal static class Memory
{
    /// <summary>The engine alone (no Redis, no client): events applied per second, from field bytes as a source hands them over.</summary>
    public static void Apply(string views, int keys, int events)
    {
        var repo = BenchRepository.Create(views, "127.0.0.1:1", 60_000, 2000, 1);
        var source = repo.StreamSources[0];
        var schema = new EventSchema(source);
        var programs = source.Views.Select((v, i) => new ViewProgram(v, i, schema)).ToArray();
        var engine = new PartitionEngine(programs, source.WatermarkDelayMs, long.MaxValue);
        var record = new EventRecord(schema);
        var generator = new LowLatency.Streams.Generation.EventGenerator(new() { Keys = keys, StartMs = 1_700_000_000_000, StepMs = 0.06 });
        var fields = new byte[events][][];
        for (int i = 0; i < events; i++)
        {
            var e = generator.Next(0);
            fields[i] = [Ascii(e.UserId), Ascii(e.TimeMs), e.Click ? "click"u8.ToArray() : "impression"u8.ToArray(), Ascii(e.ItemId), Ascii(e.DwellMs)];
        }

        var sink = new NullEmitter();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < events; i++)
        {
            var f = fields[i];
            EventReader.Begin(record, new StreamPosition(1, (ulong)i));
            bool hasKey = false;
            EventReader.Field(record, "user_id"u8, f[0], ref hasKey, out _);
            EventReader.Field(record, "ts"u8, f[1], ref hasKey, out _);
            EventReader.Field(record, "type"u8, f[2], ref hasKey, out _);
            EventReader.Field(record, "item_id"u8, f[3], ref hasKey, out _);
            EventReader.Field(record, "dwell_ms"u8, f[4], ref hasKey, out _);
            EventReader.End(record, hasKey, out _);
            engine.Apply(record, i);
            if ((i & 2047) == 2047)
            {
                engine.Fire(engine.Watermark, sink);
                engine.Flush(sink);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {views} | {events:N0} | {keys:N0} | **{events / clock.Elapsed.TotalSeconds:N0}** | {clock.Elapsed.TotalMilliseconds * 1000 / events:F2} |"));
    }

    private static byte[] Ascii(long v) => System.Text.Encoding.ASCII.GetBytes(v.ToString(CultureInfo.InvariantCulture));

    private sealed class NullEmitter : IWindowEmitter
    {
        public void Emit(ViewProgram view, LowLatency.Features.Store.EntityKey key, WindowState window)
        {
        }
    }

    public static void Run(string views, int keys)
    {
        var repo = BenchRepository.Create(views, "127.0.0.1:1", 60_000, 2000, 1);
        var source = repo.StreamSources[0];
        var schema = new EventSchema(source);
        var programs = source.Views.Select((v, i) => new ViewProgram(v, i, schema)).ToArray();
        var engine = new PartitionEngine(programs, source.WatermarkDelayMs, long.MaxValue);
        var record = new EventRecord(schema);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int k = 0; k < keys; k++)
        {
            EventReader.Begin(record, new StreamPosition(1, (ulong)k));
            bool hasKey = false;
            EventReader.Field(record, "user_id"u8, System.Text.Encoding.ASCII.GetBytes(k.ToString(CultureInfo.InvariantCulture)), ref hasKey, out _);
            EventReader.Field(record, "ts"u8, "1700000000000"u8, ref hasKey, out _);
            EventReader.Field(record, "type"u8, "impression"u8, ref hasKey, out _);
            EventReader.Field(record, "item_id"u8, "7"u8, ref hasKey, out _);
            EventReader.Field(record, "dwell_ms"u8, "1500"u8, ref hasKey, out _);
            EventReader.End(record, hasKey, out _);
            engine.Apply(record, 0);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(engine);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {views} | {keys:N0} | {programs.Sum(p => p.View.Stream!.Window.Kind == LowLatency.Features.Definitions.StreamWindowKind.Sliding ? p.Window.SizeMs / p.Window.SlideMs : 1)} | **{(after - before) / (double)keys:N0}** | {engine.StateBytes / (double)keys:N0} |"));
    }
}
