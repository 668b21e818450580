namespace LowLatency.Features.Diagnostics;

/// <summary>
/// Where the near cache's and the online store's per-read measurements go besides the meter: a
/// metrics endpoint's own series, bound once, so that a read costs counter and bucket increments and
/// not a meter adapter's tag lookup under its lock, which two cores running sixteen requests queue
/// on (docs/performance.md#metrics-sinks).
/// </summary>
public interface IFeatureMetricsExporter
{
    /// <summary>One read's rows the near cache served and did not hold.</summary>
    void OnLookups(int hits, int misses);

    /// <summary>How long before it was served a cached row was fetched, µs.</summary>
    void OnStaleness(long micros);

    /// <summary>One round trip to the online store named <paramref name="store"/>: its time, µs, and its rows by outcome.</summary>
    void OnFetch(string store, long micros, int found, int notFound, int mismatched, int unavailable);
}
