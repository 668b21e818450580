using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace LowLatency.LoadGen;

/// <summary>
/// What a run records, from any client thread: latencies into a wait-free HdrHistogram recorder,
/// status codes, and the server's Server-Timing parts. The main thread cuts the recording into
/// measurement windows (perf_analyzer's way): each window's throughput and p99, and whether the
/// last three agree within 10 %.
/// </summary>
internal sealed class Measurement
{
    private const long Highest = 60_000_000;
    private readonly Recorder _recorder = new(1, Highest, 3, (id, low, high, digits) => new LongHistogram(id, low, high, digits));
    private readonly Lock _gate = new();
    private readonly LongHistogram _total = new(Highest, 3);
    private readonly SortedDictionary<int, long> _statuses = [];
    private readonly LongHistogram _ok = new(Highest, 3);
    private readonly LongHistogram _refused = new(Highest, 3);
    private readonly LongHistogram _okServer = new(Highest, 3);
    private readonly LongHistogram[,] _serverParts = new LongHistogram[1, 4];
    private HistogramBase? _interval;

    public Measurement()
    {
        for (int k = 0; k < ServerTiming.Names.Length; k++)
        {
            _serverParts[0, k] = new LongHistogram(Highest, 3);
        }
    }

    public List<Window> Windows { get; } = [];

    public LongHistogram Total => _total;

    public IReadOnlyDictionary<int, long> Statuses => _statuses;

    /// <summary>Latencies of the 200s alone (under overload: the requests the server admitted).</summary>
    public LongHistogram Ok => _ok;

    /// <summary>Latencies of every other answer (how quickly the server refused).</summary>
    public LongHistogram Refused => _refused;

    /// <summary>The server's own time (Server-Timing queue + compute + overhead, + features where present) of the 200s.</summary>
    public LongHistogram OkServer => _okServer;

    public LongHistogram ServerPart(int k) => _serverParts[0, k];

    public void Record(long microseconds, int status, IEnumerable<string>? serverTiming)
    {
        _recorder.RecordValue(Math.Clamp(microseconds, 1, Highest));
        lock (_gate)
        {
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
            (status == 200 ? _ok : _refused).RecordValue(Math.Clamp(microseconds, 1, Highest));
            if (serverTiming is not null)
            {
                long server = ServerTiming.Record(serverTiming, _serverParts, 0);
                if (status == 200 && server > 0)
                {
                    _okServer.RecordValue(Math.Clamp(server, 1, Highest));
                }
            }
        }
    }

    /// <summary>Records an answer whose Server-Timing the client library read already.</summary>
    public void Record(long microseconds, int status, LowLatency.Client.ServerTiming timing)
    {
        _recorder.RecordValue(Math.Clamp(microseconds, 1, Highest));
        lock (_gate)
        {
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
            (status == 200 ? _ok : _refused).RecordValue(Math.Clamp(microseconds, 1, Highest));
            if (timing.IsPresent)
            {
                long queue = (long)Math.Round(timing.Queue.TotalMicroseconds), compute = (long)Math.Round(timing.Compute.TotalMicroseconds), overhead = (long)Math.Round(timing.Overhead.TotalMicroseconds);
                _serverParts[0, 0].RecordValue(queue);
                _serverParts[0, 1].RecordValue(compute);
                _serverParts[0, 2].RecordValue(overhead);
                if (status == 200 && queue + compute + overhead > 0)
                {
                    _okServer.RecordValue(Math.Clamp(queue + compute + overhead, 1, Highest));
                }
            }
        }
    }

    /// <summary>
    /// Sends one request and records it, timed from <paramref name="startedAt"/> (the send for the
    /// closed loop, the intended time for the open loop) when that is after warm-up.
    /// </summary>
    public async Task SendAsync(HttpClient client, string url, HttpContent content, long startedAt, long warmupEnd)
    {
        int status;
        IEnumerable<string>? timing = null;
        try
        {
            using var response = await client.PostAsync(url, content);
            await response.Content.LoadIntoBufferAsync();
            status = (int)response.StatusCode;
            response.Headers.TryGetValues("Server-Timing", out timing);
        }
        catch (HttpRequestException)
        {
            status = 0;
        }

        if (startedAt >= warmupEnd)
        {
            Record((Stopwatch.GetTimestamp() - startedAt) * 1_000_000 / Stopwatch.Frequency, status, timing);
        }
    }

    /// <summary>Closes the current window (main thread).</summary>
    public Window CloseWindow(double seconds)
    {
        _interval = _interval is null ? _recorder.GetIntervalHistogram() : _recorder.GetIntervalHistogram(_interval);
        _total.Add(_interval);
        long errors;
        lock (_gate)
        {
            errors = _statuses.Where(s => s.Key != 200).Sum(s => s.Value);
        }

        var w = new Window(Windows.Count + 1, _interval.TotalCount / seconds, _interval.TotalCount == 0 ? 0 : _interval.GetValueAtPercentile(50), _interval.TotalCount == 0 ? 0 : _interval.GetValueAtPercentile(99), errors);
        Windows.Add(w);
        return w;
    }

    /// <summary>Adds what was recorded after the last window (requests still in flight at the end) to the total only.</summary>
    public void Drain()
    {
        _interval = _interval is null ? _recorder.GetIntervalHistogram() : _recorder.GetIntervalHistogram(_interval);
        _total.Add(_interval);
    }

    /// <summary>perf_analyzer's rule: the last three windows' throughput and p99 each within 10 % of their mean.</summary>
    public bool Stable
    {
        get
        {
            if (Windows.Count < 3)
            {
                return false;
            }

            var last = Windows.GetRange(Windows.Count - 3, 3);
            return Within(last.Select(w => w.Throughput)) && Within(last.Select(w => (double)w.P99));

            static bool Within(IEnumerable<double> values)
            {
                var v = values.ToArray();
                double mean = v.Average();
                return mean > 0 && v.All(x => Math.Abs(x - mean) <= 0.10 * mean);
            }
        }
    }

    /// <summary>The live progress line, on stderr so that stdout stays the result.</summary>
    public static void Progress(string label, Window w, double elapsed, bool stable) =>
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r{label} {elapsed,5:F0}s  window {w.Index,3}: {w.Throughput,9:F0} req/s  p50 {w.P50,7} us  p99 {w.P99,7} us  errors {w.Errors}  {(stable ? "stable  " : "unstable")}"));

    public static long Now => Stopwatch.GetTimestamp();
}
