using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace LowLatency.Features.Diagnostics;

/// <summary>
/// The online feature store through System.Diagnostics.Metrics (meter <c>LowLatency.Features</c>,
/// exported as <c>lowlatency_features_*</c> where the host adds the meter): the near cache's hit
/// ratio (<c>cache.hits</c> over <c>cache.hits</c> + <c>cache.misses</c>), misses that waited for
/// another request's fetch, evictions, bytes held; the store's fetch latency per round trip and
/// rows by outcome; how long ago a row served from the cache was fetched (its staleness); pushed rows
/// written or skipped as older. The cache's counts are added once per read, not per row, and
/// nothing is tagged on the hit path; recording costs a flag check when nobody listens.
/// </summary>
public static class FeatureMetrics
{
    public const string MeterName = "LowLatency.Features";

    private static readonly Meter Meter = new(MeterName, "1.0");
    private static readonly ConcurrentDictionary<ICacheGauges, byte> Caches = new();

    private static readonly Counter<long> Hits = Meter.CreateCounter<long>("cache.hits", "{row}", FeatureMetricDescriptions.Hits);
    private static readonly Counter<long> Misses = Meter.CreateCounter<long>("cache.misses", "{row}", FeatureMetricDescriptions.Misses);
    private static readonly Counter<long> Coalesced = Meter.CreateCounter<long>("cache.coalesced", "{row}", "Misses that waited for another read's fetch of the same row instead of fetching");
    private static readonly Counter<long> Evictions = Meter.CreateCounter<long>("cache.evictions", "{row}", "Rows dropped to keep the near cache within its bytes");
    private static readonly Histogram<long> Staleness = Meter.CreateHistogram<long>("cache.staleness", "us", FeatureMetricDescriptions.Staleness);
    private static readonly Histogram<long> FetchDuration = Meter.CreateHistogram<long>("store.fetch.duration", "us", FeatureMetricDescriptions.FetchDuration);
    private static readonly Counter<long> StoreRows = Meter.CreateCounter<long>("store.rows", "{row}", FeatureMetricDescriptions.StoreRows);
    private static readonly Counter<long> PushRows = Meter.CreateCounter<long>("push.rows", "{row}", "Pushed rows, by outcome (written; skipped: the store held one as new or newer)");

    static FeatureMetrics()
    {
        Meter.CreateObservableGauge("cache.bytes", static () => Sum(static c => c.Bytes), "By", "Bytes the near cache holds: rows, keys and bookkeeping");
        Meter.CreateObservableGauge("cache.entries", static () => Sum(static c => c.Entries), "{row}", "Rows (found or not) the near cache holds");
    }

    public static void Register(ICacheGauges cache) => Caches.TryAdd(cache, 0);

    public static void Unregister(ICacheGauges cache) => Caches.TryRemove(cache, out _);

    private static volatile IFeatureMetricsExporter? _exporter;

    /// <summary>The names of the instruments an <see cref="IFeatureMetricsExporter"/> also receives: a listener that has the exporter can leave these out.</summary>
    public static readonly IReadOnlySet<string> ExportedInstruments = new HashSet<string>([Hits.Name, Misses.Name, Staleness.Name, FetchDuration.Name, StoreRows.Name]);

    /// <summary>
    /// Sends the near cache's and the store's per-read measurements to <paramref name="exporter"/> as
    /// well (process-wide, like the meter). They are still recorded on the meter for whoever listens
    /// (dotnet-counters).
    /// </summary>
    public static void ExportTo(IFeatureMetricsExporter exporter) => _exporter = exporter;

    public static void RecordLookups(int hits, int misses)
    {
        _exporter?.OnLookups(hits, misses);
        if (hits != 0 && Hits.Enabled)
        {
            Hits.Add(hits);
        }

        if (misses != 0 && Misses.Enabled)
        {
            Misses.Add(misses);
        }
    }

    public static void RecordCoalesced(int rows) => Coalesced.Add(rows);

    public static void RecordEvictions(int rows) => Evictions.Add(rows);

    /// <summary>Whether anyone takes <see cref="RecordStaleness"/>'s measurements (the caller skips timing a hit otherwise).</summary>
    public static bool StalenessEnabled => _exporter is not null || Staleness.Enabled;

    public static void RecordStaleness(long micros)
    {
        _exporter?.OnStaleness(micros);
        if (Staleness.Enabled)
        {
            Staleness.Record(micros);
        }
    }

    public static void RecordFetch(string store, long micros, int found, int notFound, int mismatched, int unavailable)
    {
        _exporter?.OnFetch(store, micros, found, notFound, mismatched, unavailable);
        var tag = new KeyValuePair<string, object?>("store", store);
        if (FetchDuration.Enabled)
        {
            FetchDuration.Record(micros, tag);
        }

        if (StoreRows.Enabled)
        {
            Add(StoreRows, found, tag, "found");
            Add(StoreRows, notFound, tag, "not_found");
            Add(StoreRows, mismatched, tag, "mismatched");
            Add(StoreRows, unavailable, tag, "unavailable");
        }
    }

    public static void RecordPush(string store, int written, int skipped)
    {
        var tag = new KeyValuePair<string, object?>("store", store);
        Add(PushRows, written, tag, "written");
        Add(PushRows, skipped, tag, "skipped");
    }

    private static void Add(Counter<long> counter, int n, KeyValuePair<string, object?> store, string outcome)
    {
        if (n != 0)
        {
            counter.Add(n, store, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private static long Sum(Func<ICacheGauges, long> read)
    {
        long sum = 0;
        foreach (var c in Caches.Keys)
        {
            sum += read(c);
        }

        return sum;
    }
}
