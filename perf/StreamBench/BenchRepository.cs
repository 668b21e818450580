using System.Globalization;
using LowLatency.Features.Definitions;

namespace LowLatency.StreamBench;

/// <summary>
/// The benchmark's feature repositories, in a temp folder with streams of their own: <c>count-sum</c>
/// (one tumbling view: impressions and clicks counted, dwell time summed: the issue's "count and sum
/// windows") or <c>example</c> (streams/feature_repo's three views: tumbling with a ratio, sliding
/// with a distinct count, session).
/// </summary>
internal static class BenchRepository
{
    public static FeatureRepository Create(string kind, string connection, long windowMs, long delayMs, int partitions)
    {
        string root = Path.Combine(Path.GetTempPath(), "ll-streambench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(root, recursive: true);
        string stream = "bench" + Guid.NewGuid().ToString("N")[..8];
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(root, "feature_store.json"), $$"""
            { "format_version": 1, "project": "p{{stream}}", "online_stores": { "default": { "type": "redis", "connection_string": "{{connection}}" } } }
            """);
        string views = kind == "example"
            ? File.ReadAllText(Path.Combine(FindRoot(), "streams", "feature_repo", "user_events.json"))
            : $$"""
            { "format_version": 1,
              "entities": [ { "name": "user", "join_keys": ["user_id"], "value_type": "INT64" } ],
              "stream_sources": [ { "name": "user_events", "partitions": 4, "key_field": "user_id", "timestamp_field": "ts",
                                    "watermark_delay_threshold_ms": 2000, "idle_timeout_ms": 5000 } ],
              "feature_views": [ { "name": "counts", "entities": ["user"], "ttl_seconds": 3600,
                "stream": { "source": "user_events", "window": { "type": "tumbling", "size_ms": 60000 }, "allowed_lateness_ms": 5000 },
                "schema": [
                  { "name": "impressions", "dtype": "FP32", "aggregation": { "function": "count", "where": { "field": "type", "equals": "impression" } } },
                  { "name": "clicks", "dtype": "FP32", "aggregation": { "function": "count", "where": { "field": "type", "equals": "click" } } },
                  { "name": "dwell_sum", "dtype": "FP64", "aggregation": { "function": "sum", "field": "dwell_ms" } } ] } ] }
            """;
        // The same source name, stream, window and delay whichever the views.
        views = views.Replace("\"stream\": \"user_events\"", $"\"stream\": \"{stream}\"", StringComparison.Ordinal)
            .Replace("\"name\": \"user_events\", \"partitions\": 4", $"\"name\": \"user_events\", \"stream\": \"{stream}\", \"partitions\": {I(partitions)}", StringComparison.Ordinal)
            .Replace("\"partitions\": 4,", $"\"partitions\": {I(partitions)},", StringComparison.Ordinal)
            .Replace("\"watermark_delay_threshold_ms\": 2000", $"\"watermark_delay_threshold_ms\": {I(delayMs)}", StringComparison.Ordinal)
            .Replace("\"size_ms\": 60000", $"\"size_ms\": {I(windowMs)}", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(root, "views.json"), views);
        return FeatureRepositoryReader.Read(root);
    }

    public static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LowLatency.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("LowLatency.sln not found above " + AppContext.BaseDirectory);
    }
}
