using System.Diagnostics;
using System.Globalization;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;
using LowLatency.StreamBench;
using LowLatency.Streams.Events;
using LowLatency.Streams.Generation;
using LowLatency.Streams.Processing;
using LowLatency.Streams.Sources;
using LowLatency.Streams.Windows;
using StackExchange.Redis;

// streambench throughput|latency|memory [--connection-string host:port] [--views count-sum|example] ...
// Prints one markdown table row per run (perf/streams.ps1 collects them).
string mode = args.Length > 0 ? args[0] : "throughput";
var named = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 1; i + 1 < args.Length; i += 2)
{
    named[args[i].TrimStart('-')] = args[i + 1];
}

string Get(string name, string fallback) => named.TryGetValue(name, out var v) ? v : fallback;
long Long(string name, long fallback) => long.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
string connection = Get("connection-string", "127.0.0.1:6379");
string views = Get("views", "count-sum");

switch (mode)
{
    case "throughput":
        await Throughput.RunAsync(connection, views, Long("events", 2_000_000), (int)Long("keys", 100_000), (int)Long("partitions", 4), (int)Long("batch-size", 2000), (int)Long("checkpoint-ms", 200));
        break;
    case "latency":
        await Latency.RunAsync(connection, views, Long("rate", 20_000), (int)Long("seconds", 20), Long("window-ms", 1000), Long("delay-ms", 100));
        break;
    case "engine":
        Memory.Apply(views, (int)Long("keys", 100_000), (int)Long("events", 2_000_000));
        break;
    case "memory":
        Memory.Run(views, (int)Long("keys", 100_000));
        break;
    default:
        Console.Error.WriteLine("streambench throughput|latency|engine|memory");
        return 2;
}

return 0;
