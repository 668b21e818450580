using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using HdrHistogram;
using LowLatency.LoadGen;

// A load generator. Closed loop: N concurrent clients, each sending the next request as soon as its
// previous one is answered. Open loop (--rate R): requests start at a constant or Poisson rate
// whatever the server does, and each one's latency counts from its intended start, so a stalled
// server cannot hide its stall (no coordinated omission). HdrHistogram, microseconds.
//   loadgen --url http://127.0.0.1:8000/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json
//           [--encoding msgpack|json] [--concurrency 1] [--duration 10] [--warmup 2]
//           [--rate 5000 [--arrival constant|poisson]]
var options = Options.Parse(args);
byte[] body = RequestBodies.FromGolden(options.Golden, options.MsgPack);
string contentType = options.MsgPack ? "application/msgpack" : "application/json";

using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Rate > 0 ? Math.Max(256, options.Concurrency) : options.Concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };

var histograms = new LongHistogram[options.Concurrency];
// Server-side breakdown from Server-Timing (queue, compute, overhead), in µs.
var serverParts = new LongHistogram[options.Concurrency, 3];
var statuses = new Dictionary<int, long>[options.Concurrency];
for (int i = 0; i < options.Concurrency; i++)
{
    histograms[i] = new LongHistogram(60_000_000, 3);
    statuses[i] = [];
    for (int k = 0; k < 3; k++)
    {
        serverParts[i, k] = new LongHistogram(60_000_000, 3);
    }
}

long warmupEnd = Stopwatch.GetTimestamp() + (long)(options.Warmup * Stopwatch.Frequency);
long end = warmupEnd + (long)(options.Duration * Stopwatch.Frequency);
if (options.Rate > 0)
{
    await OpenLoop.RunAsync(client, options, body, contentType, warmupEnd, end, histograms[0], statuses[0], serverParts);
}

var clients = options.Rate > 0 ? [] : Enumerable.Range(0, options.Concurrency).Select(i => Task.Run(async () =>
{
    var content = new ByteArrayContent(body);
    content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
    while (true)
    {
        long start = Stopwatch.GetTimestamp();
        if (start >= end)
        {
            return;
        }

        int status;
        try
        {
            using var response = await client.PostAsync(options.Url, content);
            await response.Content.LoadIntoBufferAsync();
            status = (int)response.StatusCode;
            if (Stopwatch.GetTimestamp() >= warmupEnd && response.Headers.TryGetValues("Server-Timing", out var timing))
            {
                ServerTiming.Record(timing, serverParts, i);
            }
        }
        catch (HttpRequestException)
        {
            status = 0;
        }

        long done = Stopwatch.GetTimestamp();
        if (start >= warmupEnd)
        {
            histograms[i].RecordValue((done - start) * 1_000_000 / Stopwatch.Frequency);
            statuses[i][status] = statuses[i].GetValueOrDefault(status) + 1;
        }
    }
})).ToArray();
await Task.WhenAll(clients);

var all = new LongHistogram(60_000_000, 3);
var codes = new SortedDictionary<int, long>();
foreach (var h in histograms)
{
    all.Add(h);
}

foreach (var s in statuses)
{
    foreach (var (code, n) in s)
    {
        codes[code] = codes.GetValueOrDefault(code) + n;
    }
}

double throughput = all.TotalCount / options.Duration;
var parts = new LongHistogram[3];
for (int k = 0; k < 3; k++)
{
    parts[k] = new LongHistogram(60_000_000, 3);
    for (int i = 0; i < options.Concurrency; i++)
    {
        parts[k].Add(serverParts[i, k]);
    }
}

string server = parts[1].TotalCount == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture,
    $"\tserver p50/p99 us: queue {parts[0].GetValueAtPercentile(50)}/{parts[0].GetValueAtPercentile(99)} compute {parts[1].GetValueAtPercentile(50)}/{parts[1].GetValueAtPercentile(99)} overhead {parts[2].GetValueAtPercentile(50)}/{parts[2].GetValueAtPercentile(99)}");
string errors = string.Join(" ", codes.Where(c => c.Key != (int)HttpStatusCode.OK).Select(c => $"{c.Key}:{c.Value}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{options.Label}\t{(options.Rate > 0 ? $"rate={options.Rate:F0}/s {options.Arrival}" : $"c={options.Concurrency}")}\t{throughput:F0} req/s\tp50 {all.GetValueAtPercentile(50)} us\tp90 {all.GetValueAtPercentile(90)} us\tp99 {all.GetValueAtPercentile(99)} us\tp99.9 {all.GetValueAtPercentile(99.9)} us\tmax {all.GetMaxValue()} us\terrors [{errors}]{server}"));
return codes.Keys.All(c => c == 200) ? 0 : 1;

internal sealed record Options(string Url, string Golden, bool MsgPack, int Concurrency, double Duration, double Warmup, string Label, double Rate = 0, string Arrival = "constant")
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new Options(
            Get("--url", "http://127.0.0.1:8000/v2/models/ctr-ranker/infer"),
            Get("--golden", "models/ctr-ranker/golden/batch1.json"),
            Get("--encoding", "msgpack") == "msgpack",
            int.Parse(Get("--concurrency", "1"), CultureInfo.InvariantCulture),
            double.Parse(Get("--duration", "10"), CultureInfo.InvariantCulture),
            double.Parse(Get("--warmup", "2"), CultureInfo.InvariantCulture),
            Get("--label", "run"),
            double.Parse(Get("--rate", "0"), CultureInfo.InvariantCulture),
            Get("--arrival", "constant"));
    }
}
