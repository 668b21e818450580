using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using LowLatency.Client;
using LowLatency.LoadGen;

// A load generator. Closed loop: N concurrent clients, each sending the next request as soon as its
// previous one is answered. Open loop (--rate R): requests start at a constant or Poisson rate
// whatever the server does, and each one's latency counts from its intended start, so a stalled
// server cannot hide its stall (no coordinated omission). HdrHistogram, microseconds. The run is cut
// into measurement windows (--window s): each window's throughput and p99 show on a live progress
// line (stderr), and the run is "stable" when the last three agree within 10 % (perf_analyzer's
// rule); --until-stable extends the run, up to --max-duration, until they do.
//   loadgen --url http://127.0.0.1:8000/v2/models/ctr-ranker/infer --golden models/ctr-ranker/golden/batch1.json
//           [--encoding msgpack|json|binary] [--concurrency 1] [--duration 10] [--warmup 2] [--window 1]
//           [--transport http|grpc] [--client] [--model name] [--grpc-channels 1]
//           [--rate 5000 [--arrival constant|poisson]] [--until-stable [--max-duration 60]]
//           [--json result.json] [--md result.md] [--label name]
//   loadgen ... --paired-url URL2 [--paired-golden G2] [--paired-label name2] [--paired-json result2.json]
//   loadgen plot --out latency.svg [--title text] result1.json result2.json ...
//   loadgen body --golden models/ctr-ranker/golden/batch1.json [--encoding msgpack|json|binary] --out body.bin
// binary: Triton's binary tensor data (JSON, then the tensors' bytes; outputs asked for as bytes too),
// as tritonclient and perf_analyzer send it; `body` prints the JSON's length for the header.
// --transport http (the default) posts a body built once and does not decode the answer, as every
// earlier run did; --client sends it through LowLatency.Client instead (encoded and decoded on
// every call, msgpack or binary). --transport grpc always goes through the client, to --url's
// host and port (http://127.0.0.1:8001), over --grpc-channels channels. The model is --model, else
// the /v2/models/<name> of --url, else the golden case's folder.
// --paired-url (closed loop, raw HTTP): each client alternates a request to --url with one to the
// paired URL on the same connection pool, and each target gets its own result line (and JSON). A
// difference between two targets smaller than the host's drift from one run to the next is seen
// this way: both share every moment of the run.
if (args.Length > 0 && args[0] == "plot")
{
    return Plot.Run(args[1..]);
}

if (!Options.TryParse(args, out var options))
{
    return 2;
}

if (args.Length > 0 && args[0] == "body")
{
    // The request body the runs send, for other tools (wrk): loadgen body --golden G --encoding E --out F
    var written = RequestBodies.FromGolden(options.Golden, options.Encoding);
    File.WriteAllBytes(args[Array.IndexOf(args, "--out") + 1], written.Bytes);
    if (written.JsonLength >= 0)
    {
        Console.WriteLine($"{RequestBody.JsonLengthHeader}: {written.JsonLength}");
    }

    return 0;
}

var body = RequestBodies.FromGolden(options.Golden, options.Encoding);
var pairedBody = options.PairedUrl is null ? null : RequestBodies.FromGolden(options.PairedGolden ?? options.Golden, options.Encoding);

int connections = options.Rate > 0 ? Math.Max(256, options.Concurrency) : options.Concurrency;
using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
using var library = options.ThroughClient ? new InferenceClient(new InferenceClientOptions
{
    Address = new Uri(new Uri(options.Url).GetLeftPart(UriPartial.Authority)),
    Transport = options.Transport == "grpc" ? InferenceTransport.Grpc : InferenceTransport.Http,
    HttpEncoding = options.Encoding == "binary" ? HttpBodyEncoding.JsonBinary : HttpBodyEncoding.MessagePack,
    MaxConnectionsPerServer = connections,
    GrpcChannelCount = options.GrpcChannels,
    DefaultTimeout = TimeSpan.FromSeconds(30),
    Retry = RetryPolicy.None,
}) : null;
var (inputs, inferOptions) = options.ThroughClient ? ClientInputs.FromGolden(options.Golden) : default;
var measurement = new Measurement();
var paired = pairedBody is null ? null : new Measurement();
long warmupEnd = Stopwatch.GetTimestamp() + (long)(options.Warmup * Stopwatch.Frequency);
var clock = new RunClock(warmupEnd, warmupEnd + (long)(options.Duration * Stopwatch.Frequency));

ISender NewSender(bool shareContent) => library is not null
    ? new ClientSender(library, options.Model, inputs!, inferOptions!, measurement)
    : new RawHttpSender(client, options.Url, body, measurement, shareContent);

Task load = options.Rate > 0
    ? OpenLoop.RunAsync(NewSender(shareContent: false), options, clock)
    : Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(ClientAsync)));

// Windows, on this thread, from the end of warm-up.
Thread.Sleep(TimeSpan.FromSeconds(options.Warmup));
long allocatedAtWarmupEnd = GC.GetTotalAllocatedBytes(precise: false);
long windowTicks = (long)(options.Window * Stopwatch.Frequency);
long maxEnd = warmupEnd + (long)(Math.Max(options.MaxDuration, options.Duration) * Stopwatch.Frequency);
for (long next = warmupEnd + windowTicks; next <= clock.End; next += windowTicks)
{
    long wait = next - Stopwatch.GetTimestamp();
    if (wait > 0)
    {
        Thread.Sleep(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
    }

    var w = measurement.CloseWindow(options.Window);
    paired?.CloseWindow(options.Window);
    Measurement.Progress(options.Label, w, (double)(next - warmupEnd) / Stopwatch.Frequency, measurement.Stable);
    // Decided a window ahead, while the clients still run: one more window when the next is the
    // last and the run is not stable yet.
    if (options.UntilStable && !measurement.Stable && clock.End <= next + windowTicks && clock.End + windowTicks <= maxEnd)
    {
        clock.ExtendTo(clock.End + windowTicks);
    }
}

await load;
long allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedAtWarmupEnd;
Console.Error.WriteLine();
measurement.Drain();
double measured = (double)(clock.End - warmupEnd) / Stopwatch.Frequency;
var result = Result.From(options, measurement, measured);
Console.WriteLine(result.Line());
if (paired is not null)
{
    paired.Drain();
    var pairedResult = Result.From(options with { Label = options.PairedLabel }, paired, measured);
    Console.WriteLine(pairedResult.Line());
    if (options.PairedJson is not null)
    {
        pairedResult.WriteJson(options.PairedJson);
    }
}
// The whole load generator's allocation (client, histograms, tasks), per request, after warm-up.
Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"allocated: {(result.Requests == 0 ? 0 : allocated / result.Requests)} B per request (this process, after warm-up)"));
if (options.Json is not null)
{
    result.WriteJson(options.Json);
}

if (options.Markdown is not null)
{
    File.WriteAllLines(options.Markdown, [Result.MarkdownHeader, Result.MarkdownRule, result.MarkdownRow()]);
}

return measurement.Statuses.Keys.All(c => c == (int)HttpStatusCode.OK) && (paired is null || paired.Statuses.Keys.All(c => c == (int)HttpStatusCode.OK)) ? 0 : 1;

async Task ClientAsync()
{
    var sender = NewSender(shareContent: true);
    var second = pairedBody is null ? null : new RawHttpSender(client, options.PairedUrl!, pairedBody, paired!, shareContent: true);
    while (true)
    {
        long start = Stopwatch.GetTimestamp();
        if (start >= clock.End)
        {
            return;
        }

        await sender.SendAsync(start, warmupEnd);
        if (second is not null)
        {
            start = Stopwatch.GetTimestamp();
            await second.SendAsync(start, warmupEnd);
        }
    }
}

internal sealed record Options(string Url, string Golden, string Encoding, int Concurrency, double Duration, double Warmup, string Label, double Rate, string Arrival, double Window, bool UntilStable, double MaxDuration, string? Json, string? Markdown)
{
    public static readonly string[] Transports = ["http", "grpc"];

    /// <summary>http (the default) or grpc.</summary>
    public string Transport { get; init; } = "http";

    /// <summary>HTTP through LowLatency.Client rather than the prebuilt body (--client); gRPC always is.</summary>
    public bool UseClient { get; init; }

    public string Model { get; init; } = string.Empty;

    public int GrpcChannels { get; init; } = 1;

    /// <summary>The second target each closed-loop client alternates with (--paired-url), its body's golden case, label and JSON.</summary>
    public string? PairedUrl { get; init; }

    public string? PairedGolden { get; init; }

    public string PairedLabel { get; init; } = "paired";

    public string? PairedJson { get; init; }

    public bool ThroughClient => UseClient || Transport == "grpc";

    /// <summary>What the results name the encoding: the raw path's encoding as before, prefixed where the client sent it.</summary>
    public string EncodingLabel => Transport == "grpc" ? "grpc" : UseClient ? "client-" + Encoding : Encoding;

    /// <summary>Parses the arguments, or reports what is wrong with them on stderr.</summary>
    public static bool TryParse(string[] args, out Options options)
    {
        try
        {
            options = Parse(args);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"loadgen: {e.Message}");
            options = null!;
            return false;
        }
    }

    private static Options Parse(string[] args)
    {
        string? Get(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        double Number(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

        string transport = Get("--transport") ?? "http";
        if (!Transports.Contains(transport))
        {
            throw new ArgumentException($"--transport {transport}: use http or grpc");
        }

        bool useClient = args.Contains("--client");
        string encoding = Get("--encoding") ?? "msgpack";
        if ((useClient || transport == "grpc") && encoding == "json")
        {
            throw new ArgumentException("--encoding json: the client sends msgpack or binary (JSON with binary tensors)");
        }

        string? pairedUrl = Get("--paired-url");
        if (pairedUrl is not null && (useClient || transport == "grpc" || args.Contains("--rate")))
        {
            throw new ArgumentException("--paired-url: closed loop over raw HTTP only (no --client, --transport grpc or --rate)");
        }

        string url = Get("--url") ?? (transport == "grpc" ? "http://127.0.0.1:8001" : "http://127.0.0.1:8000/v2/models/ctr-ranker/infer");
        string golden = Get("--golden") ?? "models/ctr-ranker/golden/batch1.json";
        var path = new Uri(url).AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string model = Get("--model")
            ?? (path.Length >= 3 && path[0] == "v2" && path[1] == "models" ? Uri.UnescapeDataString(path[2]) : Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(golden))))!);

        return new Options(
            url,
            golden,
            Get("--encoding") is { } e && !RequestBodies.Encodings.Contains(e)
                ? throw new ArgumentException($"--encoding {e}: use one of {string.Join(", ", RequestBodies.Encodings)}")
                : Get("--encoding") ?? "msgpack",
            (int)Number("--concurrency", 1),
            Number("--duration", 10),
            Number("--warmup", 2),
            Get("--label") ?? "run",
            Number("--rate", 0),
            Get("--arrival") ?? "constant",
            Number("--window", 1),
            args.Contains("--until-stable"),
            Number("--max-duration", 60),
            Get("--json"),
            Get("--md"))
        {
            Transport = transport,
            UseClient = useClient,
            Model = model,
            GrpcChannels = (int)Number("--grpc-channels", 1),
            PairedUrl = pairedUrl,
            PairedGolden = Get("--paired-golden"),
            PairedLabel = Get("--paired-label") ?? "paired",
            PairedJson = Get("--paired-json"),
        };
    }
}
