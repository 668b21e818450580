using System.Collections.Concurrent;
using LowLatency.Features.Diagnostics;
using Prometheus;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// The near cache's and the online store's per-read series in prometheus-net, under the names and
/// labels the meter adapter gave them (dashboards keep working), bound once (per store where they are
/// labelled): a read is counter and bucket increments, not a tag lookup (docs/performance.md#metrics-sinks).
/// The unlabelled series appear once a feature store has recorded into them, as with the adapter,
/// which sees the meter only once a store opens.
/// </summary>
internal sealed class PrometheusFeatureMetrics(double[] microsecondBuckets) : IFeatureMetricsExporter
{
    private readonly Counter _hits = Metrics.CreateCounter("lowlatency_features_cache_hits", FeatureMetricDescriptions.Hits, new CounterConfiguration { SuppressInitialValue = true });
    private readonly Counter _misses = Metrics.CreateCounter("lowlatency_features_cache_misses", FeatureMetricDescriptions.Misses, new CounterConfiguration { SuppressInitialValue = true });
    private readonly Histogram _staleness = Metrics.CreateHistogram("lowlatency_features_cache_staleness", FeatureMetricDescriptions.Staleness + ", us", new HistogramConfiguration { Buckets = microsecondBuckets, SuppressInitialValue = true });
    private readonly Histogram _fetch = Metrics.CreateHistogram("lowlatency_features_store_fetch_duration", FeatureMetricDescriptions.FetchDuration + ", us", new HistogramConfiguration { LabelNames = ["store"], Buckets = microsecondBuckets });
    private readonly Counter _rows = Metrics.CreateCounter("lowlatency_features_store_rows", FeatureMetricDescriptions.StoreRows, new CounterConfiguration { LabelNames = ["outcome", "store"] });

    // Stores are named in the feature repository: a handful, bound at their first read.
    private readonly ConcurrentDictionary<string, StoreSeries> _stores = new(StringComparer.Ordinal);

    public void OnLookups(int hits, int misses)
    {
        if (hits != 0)
        {
            _hits.Inc(hits);
        }

        if (misses != 0)
        {
            _misses.Inc(misses);
        }
    }

    public void OnStaleness(long micros) => _staleness.Observe(micros);

    public void OnFetch(string store, long micros, int found, int notFound, int mismatched, int unavailable)
    {
        var s = _stores.GetOrAdd(store, static (name, self) => new StoreSeries(self, name), this);
        s.Duration.Observe(micros);
        Add(s.Found, found);
        Add(s.NotFound, notFound);
        Add(s.Mismatched, mismatched);
        Add(s.Unavailable, unavailable);

        static void Add(Counter.Child counter, int n)
        {
            if (n != 0)
            {
                counter.Inc(n);
            }
        }
    }

    private sealed class StoreSeries(PrometheusFeatureMetrics m, string store)
    {
        public readonly Histogram.Child Duration = m._fetch.WithLabels(store);
        public readonly Counter.Child Found = m._rows.WithLabels("found", store);
        public readonly Counter.Child NotFound = m._rows.WithLabels("not_found", store);
        public readonly Counter.Child Mismatched = m._rows.WithLabels("mismatched", store);
        public readonly Counter.Child Unavailable = m._rows.WithLabels("unavailable", store);
    }
}
