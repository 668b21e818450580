using System.Diagnostics;
using System.Globalization;
using LowLatency.Features.Store;
using LowLatency.Streams.Events;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using StackExchange.Redis;

namespace LowLatency.StreamBench;

/// <summary>
/// End-to-end delay: events appended at a steady rate with the wall clock as their event time, one
/// processor running, and a reader polling the rows of the 16 busiest users every millisecond. A
/// window [s, e) can be written once every partition's watermark (largest time − delay − 1) reaches
/// e − 1, that is once events stamped e + delay are appended: its row's delay beyond the watermark
/// delay is the wall clock when the reader first sees it, minus e + delay. At the rate used, every
/// partition gets an event within a fraction of a millisecond of e + delay, which this ignores.
/// </summary>
internal static class Latency
{
    public static async Task RunAsync(string connection, string views, long rate, int seconds, long windowMs, long delayMs)
    {
        var repo = BenchRepository.Create(views, connection, windowMs, delayMs, 4);
        var source = repo.StreamSources[0];
        var view = source.Views[0];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connection);
        await using var store = await RedisOnlineStore.ConnectAsync(repo.OnlineStore("default")!, repo);
        await using var log = await RedisStreamSource.ConnectAsync(connection, source, "ll-streams", "bench", 3000);
        var processor = new StreamProcessor(new StreamProcessorOptions { CheckpointIntervalMs = 200 }, source, log, store);
        processor.Start();

        var generate = new EventGeneratorOptions { Count = rate * seconds, Rate = rate, Keys = 1000, Skew = 0.8, StepMs = 0, OutOfOrder = 0, Late = 0, Seed = 7 };
        var appender = new StreamAppender(redis.GetDatabase(), source);
        using var stop = new CancellationTokenSource();
        var delays = new List<double>();
        var poll = Task.Run(() => Poll(store, view, delayMs, delays, stop.Token));
        var clock = Stopwatch.StartNew();
        await appender.RunAsync(new EventGenerator(generate), generate);
        await Task.Delay((int)(windowMs + delayMs + 500));
        await stop.CancelAsync();
        await poll;
        await processor.StopAsync();

        // The first windows start with the processor warming up: left out.
        var sample = delays.Skip(16 * 2).Order().ToArray();
        double P(double q) => sample.Length == 0 ? double.NaN : sample[Math.Min(sample.Length - 1, (int)(q * sample.Length))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {views} | {rate:N0} | {seconds} | {windowMs} | {delayMs} | {sample.Length} | {P(0.5):F1} | **{P(0.99):F1}** | {(sample.Length == 0 ? double.NaN : sample[^1]):F1} |"));
    }

    private static void Poll(RedisOnlineStore store, LowLatency.Features.Definitions.FeatureView view, long delayMs, List<double> delays, CancellationToken stop)
    {
        // The generator's keys are 1..1000 by falling popularity: the 16 busiest have an event in every window.
        var rows = Enumerable.Range(1, 16).Select(k => new RowRead(view, EntityKey.Of(k), new byte[view.RowBytes])).ToArray();
        var seen = new long[rows.Length];
        while (!stop.IsCancellationRequested)
        {
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i] = new RowRead(rows[i].View, rows[i].Entity, rows[i].Destination);
            }

            store.ReadAsync(rows).AsTask().GetAwaiter().GetResult();
            double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (DateTimeOffset.UtcNow.Ticks % TimeSpan.TicksPerMillisecond / (double)TimeSpan.TicksPerMillisecond);
            for (int i = 0; i < rows.Length; i++)
            {
                long end = rows[i].EventTimeMicros / 1000;
                if (rows[i].State == RowState.Found && end > seen[i])
                {
                    if (seen[i] != 0)
                    {
                        delays.Add(now - end - delayMs);
                    }

                    seen[i] = end;
                }
            }

            Thread.Sleep(1);
        }
    }
}
