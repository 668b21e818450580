using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// What the HTTP side answered, including what never reached the engine (malformed bodies, unknown
/// models, bodies that could not be read, clients gone before their answer as 499, 413, 415, 503
/// while loading or stopping): meter <c>LowLatency.Host</c>, counter
/// <c>responses</c> by model and status code. A model name that is not served is counted as
/// "unknown", so a client cannot grow the label set without bound.
/// Prometheus gets it as <c>lowlatency_host_responses</c> from a prometheus-net counter whose
/// children are bound once per model (<see cref="ExportToPrometheus"/>), not through the meter
/// adapter, which would resolve both labels again on every response
/// (docs/performance.md#metrics-sinks); the meter keeps it for dotnet-counters and any other listener.
/// </summary>
internal static class HostMetrics
{
    public const string MeterName = "LowLatency.Host";

    // Every code the endpoint answers with, and "other": a child per code and model, and the tag
    // value boxed once per code, not per response.
    // 408: a body too slow; 499: a client gone before its answer (nothing was sent).
    private static readonly string[] Codes = ["200", "400", "404", "408", "413", "415", "429", "499", "500", "503", "504", "other"];
    private static readonly object[] BoxedCodes = [.. Codes];

    private static readonly Meter Meter = new(MeterName, "1.0");

    private const string ResponsesDescription = "Inference responses by model and HTTP status code";

    private static readonly Counter<long> Responses = Meter.CreateCounter<long>("responses", "{response}", ResponsesDescription);

    private static readonly ConcurrentDictionary<string, Prometheus.Counter.Child[]> Exported = new(StringComparer.Ordinal);
    private static Prometheus.Counter? _exporter;

    /// <summary>From now on every response is also counted in prometheus-net's default registry (called once, when /metrics is mapped).</summary>
    public static void ExportToPrometheus() =>
        _exporter ??= Prometheus.Metrics.CreateCounter("lowlatency_host_responses", ResponsesDescription, new Prometheus.CounterConfiguration { LabelNames = ["code", "model"] });

    public static void RecordResponse(string model, int statusCode)
    {
        int slot = Slot(statusCode);
        if (Responses.Enabled)
        {
            Responses.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("code", BoxedCodes[slot]));
        }

        if (_exporter is { } exporter)
        {
            // Model names are bounded: served models and "unknown" (the endpoint counts what it does not serve so).
            Exported.GetOrAdd(model, static (m, e) => Bind(e, m), exporter)[slot].Inc();
        }
    }

    private static Prometheus.Counter.Child[] Bind(Prometheus.Counter exporter, string model)
    {
        var children = new Prometheus.Counter.Child[Codes.Length];
        for (int i = 0; i < Codes.Length; i++)
        {
            children[i] = exporter.WithLabels(Codes[i], model);
        }

        return children;
    }

    private static int Slot(int code) => code switch
    {
        200 => 0,
        400 => 1,
        404 => 2,
        408 => 3,
        413 => 4,
        415 => 5,
        429 => 6,
        499 => 7,
        500 => 8,
        503 => 9,
        504 => 10,
        _ => 11,
    };
}
