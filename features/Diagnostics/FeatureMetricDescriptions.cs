namespace LowLatency.Features.Diagnostics;

/// <summary>
/// The descriptions of the near cache's and the store's per-read instruments, written once: the
/// meter's instruments carry them, and a metrics endpoint's <see cref="IFeatureMetricsExporter"/>
/// gives them as help texts.
/// </summary>
public static class FeatureMetricDescriptions
{
    public const string Hits = "Rows the near cache served";
    public const string Misses = "Rows the near cache did not hold (fetched, or waited for a fetch under way)";
    public const string Staleness = "How long before it was served a cached row was fetched from the store";
    public const string FetchDuration = "One read of the online store: every row a request missed, in one round trip";
    public const string StoreRows = "Rows read from the online store, by outcome (found, not_found, mismatched: a row of another layout, unavailable)";
}
