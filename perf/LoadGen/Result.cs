using System.Globalization;
using System.Text.Json;
using HdrHistogram;

namespace LowLatency.LoadGen;

/// <summary>One run's figures: the stdout line, a Markdown row, and JSON with the percentile curve for plots.</summary>
internal sealed record Result(
    string Label,
    string Mode,
    string Encoding,
    double DurationSeconds,
    double Throughput,
    long Requests,
    long P50,
    long P90,
    long P99,
    long P999,
    long Max,
    IReadOnlyDictionary<string, long> Statuses,
    bool Stable,
    IReadOnlyList<Window> Windows,
    IReadOnlyList<double[]> Percentiles,
    IReadOnlyDictionary<string, long[]> Server)
{
    /// <summary>p50, p99 and max of the 200s alone, and of the other answers (empty when there were none).</summary>
    public IReadOnlyDictionary<string, long[]> ByOutcome { get; init; } = new Dictionary<string, long[]>();

    /// <summary>Where the plot samples the curve: denser towards the tail, as HdrHistogram's plots do.</summary>
    private static readonly double[] CurvePoints = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.999, 100];

    public const string MarkdownHeader = "| run | mode | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | errors | stable |";
    public const string MarkdownRule = "|---|---|---|---|---|---|---|---|---|---|";

    public static Result From(Options options, Measurement m, double seconds)
    {
        var all = m.Total;
        long P(double p) => all.TotalCount == 0 ? 0 : all.GetValueAtPercentile(p);
        var server = new Dictionary<string, long[]>();
        var names = ServerTiming.Names;
        for (int k = 0; k < names.Length; k++)
        {
            var h = m.ServerPart(k);
            if (h.TotalCount > 0)
            {
                // features: p50, p99 and how many answers carried it (those whose join took 1 µs or more).
                server[names[k]] = names[k] == "features" ? [h.GetValueAtPercentile(50), h.GetValueAtPercentile(99), h.TotalCount] : [h.GetValueAtPercentile(50), h.GetValueAtPercentile(99)];
            }
        }

        return new Result(
            options.Label,
            options.Rate > 0 ? string.Create(CultureInfo.InvariantCulture, $"rate={options.Rate:F0}/s {options.Arrival}") : $"c={options.Concurrency}",
            options.EncodingLabel,
            seconds,
            all.TotalCount / seconds,
            all.TotalCount,
            P(50),
            P(90),
            P(99),
            P(99.9),
            all.TotalCount == 0 ? 0 : all.GetMaxValue(),
            m.Statuses.ToDictionary(s => s.Key.ToString(CultureInfo.InvariantCulture), s => s.Value),
            m.Stable,
            m.Windows,
            [.. CurvePoints.Select(p => new[] { p, (double)P(p) })],
            server)
        {
            ByOutcome = Outcomes(m),
        };
    }

    private static Dictionary<string, long[]> Outcomes(Measurement m)
    {
        var d = new Dictionary<string, long[]>();
        foreach (var (name, h) in new[] { ("ok", m.Ok), ("refused", m.Refused), ("ok_server", m.OkServer) })
        {
            if (h.TotalCount > 0)
            {
                d[name] = [h.GetValueAtPercentile(50), h.GetValueAtPercentile(99), h.GetMaxValue()];
            }
        }

        return d;
    }

    private string Errors => string.Join(" ", Statuses.Where(s => s.Key != "200").Select(s => $"{s.Key}:{s.Value}"));

    /// <summary>The stdout line; perf/side-by-side.ps1 parses it.</summary>
    public string Line()
    {
        string server = Server.TryGetValue("compute", out var c) ? string.Create(CultureInfo.InvariantCulture,
            $"\tserver p50/p99 us: queue {Part("queue")} compute {c[0]}/{c[1]} overhead {Part("overhead")}{(Server.ContainsKey("features") ? $" features {Part("features")}" : string.Empty)}") : string.Empty;
        // Only when some answers were not 200: the admitted requests' latency apart from the refusals'.
        if (ByOutcome.TryGetValue("refused", out var refused))
        {
            string ok = ByOutcome.TryGetValue("ok", out var o) ? $"{o[0]}/{o[1]}/{o[2]}" : "-";
            string inServer = ByOutcome.TryGetValue("ok_server", out var os) ? $"{os[0]}/{os[1]}/{os[2]}" : "-";
            server += string.Create(CultureInfo.InvariantCulture, $"\tp50/p99/max us: 200s {ok} (in the server {inServer}) others {refused[0]}/{refused[1]}/{refused[2]}");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{Label}\t{Mode}\t{Throughput:F0} req/s\tp50 {P50} us\tp90 {P90} us\tp99 {P99} us\tp99.9 {P999} us\tmax {Max} us\terrors [{Errors}]\t{(Stable ? "stable" : "unstable")}{server}");

        string Part(string name) => Server.TryGetValue(name, out var v) ? $"{v[0]}/{v[1]}" : "-";
    }

    public string MarkdownRow() => string.Create(CultureInfo.InvariantCulture,
        $"| {Label} | {Mode} | {Throughput:F0} | {P50} | {P90} | {P99} | {P999} | {Max} | {(Errors.Length == 0 ? "0" : Errors)} | {(Stable ? "yes" : "no")} |");

    public void WriteJson(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    }

    public static Result Read(string path) => JsonSerializer.Deserialize<Result>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path}: not a loadgen result");

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
