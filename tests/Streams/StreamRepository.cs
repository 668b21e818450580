using System.Globalization;
using LowLatency.Features.Definitions;

namespace LowLatency.Tests.Streams;

/// <summary>
/// A feature repository in a temp folder with one stream source (a unique stream name, so tests
/// share one redis-server) and three views, one per window type, that use every aggregation and a
/// ratio; the online store is the same redis-server.
/// </summary>
internal sealed class StreamRepository : IDisposable
{
    public StreamRepository(int port, int partitions = 4, long delayMs = 200, long idleMs = 60_000, long tumblingMs = 1000, long tumblingLateMs = 500,
        long slidingMs = 2000, long slideMs = 500, long slidingLateMs = 300, long gapMs = 300, long sessionLateMs = 200)
    {
        Root = Path.Combine(Path.GetTempPath(), "ll-streams-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Stream = "ev" + Guid.NewGuid().ToString("N")[..10];
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(Root, "feature_store.json"), $$"""
            { "format_version": 1, "project": "p{{Stream}}",
              "online_stores": { "default": { "type": "redis", "connection_string": "127.0.0.1:{{I(port)}}" } } }
            """);
        File.WriteAllText(Path.Combine(Root, "events.json"), $$"""
            {
              "format_version": 1,
              "entities": [ { "name": "user", "join_keys": ["user_id"], "value_type": "INT64" } ],
              "stream_sources": [ { "name": "events", "stream": "{{Stream}}", "partitions": {{I(partitions)}}, "key_field": "user_id",
                                    "timestamp_field": "ts", "watermark_delay_threshold_ms": {{I(delayMs)}}, "idle_timeout_ms": {{I(idleMs)}} } ],
              "feature_views": [
                { "name": "tumbling", "entities": ["user"],
                  "stream": { "source": "events", "window": { "type": "tumbling", "size_ms": {{I(tumblingMs)}} }, "allowed_lateness_ms": {{I(tumblingLateMs)}} },
                  "schema": [
                    { "name": "events", "dtype": "INT64", "aggregation": { "function": "count" } },
                    { "name": "clicks", "dtype": "FP32", "aggregation": { "function": "count", "where": { "field": "type", "equals": "click" } } },
                    { "name": "dwell_sum", "dtype": "FP64", "aggregation": { "function": "sum", "field": "dwell_ms" } },
                    { "name": "dwell_min", "dtype": "INT32", "default": -1, "aggregation": { "function": "min", "field": "dwell_ms" } },
                    { "name": "dwell_max", "dtype": "FP32", "aggregation": { "function": "max", "field": "dwell_ms" } },
                    { "name": "dwell_mean", "dtype": "FP32", "aggregation": { "function": "mean", "field": "dwell_ms" } },
                    { "name": "items", "dtype": "INT64", "aggregation": { "function": "distinct_count", "field": "item_id" } },
                    { "name": "last_item", "dtype": "INT64", "aggregation": { "function": "last", "field": "item_id" } },
                    { "name": "click_dwell_max", "dtype": "FP64", "default": -2, "aggregation": { "function": "max", "field": "dwell_ms", "where": { "field": "type", "equals": "click" } } },
                    { "name": "ctr", "dtype": "FP32", "default": 0.02, "derived": { "ratio": ["clicks", "events"] } }
                  ] },
                { "name": "sliding", "entities": ["user"],
                  "stream": { "source": "events", "window": { "type": "sliding", "size_ms": {{I(slidingMs)}}, "slide_ms": {{I(slideMs)}} }, "allowed_lateness_ms": {{I(slidingLateMs)}} },
                  "schema": [
                    { "name": "events", "dtype": "INT32", "aggregation": { "function": "count" } },
                    { "name": "dwell_sum", "dtype": "INT64", "aggregation": { "function": "sum", "field": "dwell_ms" } },
                    { "name": "items", "dtype": "FP32", "aggregation": { "function": "distinct_count", "field": "item_id" } },
                    { "name": "last_dwell", "dtype": "FP64", "aggregation": { "function": "last", "field": "dwell_ms" } }
                  ] },
                { "name": "session", "entities": ["user"],
                  "stream": { "source": "events", "window": { "type": "session", "gap_ms": {{I(gapMs)}} }, "allowed_lateness_ms": {{I(sessionLateMs)}} },
                  "schema": [
                    { "name": "events", "dtype": "INT64", "aggregation": { "function": "count" } },
                    { "name": "dwell_max", "dtype": "FP32", "aggregation": { "function": "max", "field": "dwell_ms" } },
                    { "name": "dwell_mean", "dtype": "FP64", "aggregation": { "function": "mean", "field": "dwell_ms" } },
                    { "name": "last_item", "dtype": "INT64", "aggregation": { "function": "last", "field": "item_id" } }
                  ] }
              ]
            }
            """);
        Repository = FeatureRepositoryReader.Read(Root);
    }

    public string Root { get; }

    public string Stream { get; }

    public FeatureRepository Repository { get; }

    public StreamSource Source => Repository.StreamSources[0];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
