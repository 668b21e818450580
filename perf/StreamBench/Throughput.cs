using System.Diagnostics;
using System.Globalization;
using LowLatency.Features.Store;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using StackExchange.Redis;

namespace LowLatency.StreamBench;

/// <summary>
/// Events per second through one processor: a log appended first (at the rate Redis takes it), then
/// the processor started on it, timed from its first entry to the last partition checkpointed at the
/// log's end; the CPU seconds this process and redis-server spent meanwhile say which one was the limit.
/// </summary>
internal static class Throughput
{
    public static async Task RunAsync(string connection, string views, long events, int keys, int partitions, int batchSize, int checkpointMs)
    {
        var repo = BenchRepository.Create(views, connection, 60_000, 2000, partitions);
        var source = repo.StreamSources[0];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true");
        var db = redis.GetDatabase();
        var generate = new EventGeneratorOptions { Count = events, Keys = keys, Skew = 0.8, StartMs = 1_700_000_000_000, StepMs = 0.06, OutOfOrder = 0.1, DisorderMs = 1000, Late = 0.001, LateMs = 3000 };
        var appender = new StreamAppender(db, source);
        var clock = Stopwatch.StartNew();
        await appender.RunAsync(new EventGenerator(generate), generate);
        appender.Heartbeat(4_000_000_000_000);
        await appender.FlushAsync();
        double appendSeconds = clock.Elapsed.TotalSeconds;

        await using var store = await RedisOnlineStore.ConnectAsync(repo.OnlineStore("default")!, repo);
        await using var log = await RedisStreamSource.ConnectAsync(connection, source, "ll-streams", "bench", 3000);
        var options = new StreamProcessorOptions { BatchSize = batchSize, CheckpointIntervalMs = checkpointMs };
        var processor = new StreamProcessor(options, source, log, store);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        double redisBefore = RedisCpu(server);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        processor.Start();
        while (processor.Entries == 0)
        {
            await Task.Delay(1);
        }

        clock.Restart();
        long total = events + partitions;
        while (true)
        {
            if (processor.Entries >= total && await CheckpointedAsync(db, source, partitions))
            {
                break;
            }

            await Task.Delay(5);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        double redisCpu = RedisCpu(server) - redisBefore;
        await processor.StopAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {views} | {events:N0} | {keys:N0} | {partitions} | {batchSize} | {events / appendSeconds:N0} | **{events / seconds:N0}** | {seconds:F2} | {cpu:F2} | {redisCpu:F2} | {processor.Checkpoints} | {processor.RowsWritten:N0} |"));
    }

    private static async Task<bool> CheckpointedAsync(IDatabase db, LowLatency.Features.Definitions.StreamSource source, int partitions)
    {
        for (int p = 0; p < partitions; p++)
        {
            var last = await db.StreamRangeAsync(source.PartitionStream(p), "-", "+", 1, Order.Descending);
            if (await db.HashGetAsync(new RedisStreamKeys(source, "ll-streams", p).Meta, "position") != last[0].Id)
            {
                return false;
            }
        }

        return true;
    }

    private static double RedisCpu(IServer server)
    {
        var cpu = server.Info("cpu").SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        return double.Parse(cpu["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(cpu["used_cpu_sys"], CultureInfo.InvariantCulture);
    }
}
