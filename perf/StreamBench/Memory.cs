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
