using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// What the HTTP side answered, including what never reached the engine (malformed bodies, unknown
/// models, bodies that could not be read, clients gone before their answer as 499, 413, 415, 503
/// while loading or stopping): meter <c>LowLatency.Host</c>, counter
/// <c>responses</c> by protocol, model and status code: <c>protocol</c> "http" with the HTTP status,
/// or "grpc" with gRPC's status name (<c>OK</c>, <c>INVALID_ARGUMENT</c>, …). A model name that is
/// not served is counted as "unknown", so a client cannot grow the label set without bound.
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

    private static readonly string[] GrpcCodes = GrpcStatusNames.All;

    private static readonly object[] BoxedGrpcCodes = [.. GrpcCodes];

    private static readonly object Http = "http";
    private static readonly object Grpc = "grpc";

    private static readonly Meter Meter = new(MeterName, "1.0");

    private const string ResponsesDescription = "Inference responses by protocol (http, grpc), model and status code (HTTP's, or gRPC's status name)";

    private static readonly Counter<long> Responses = Meter.CreateCounter<long>("responses", "{response}", ResponsesDescription);

    private static readonly ConcurrentDictionary<string, Prometheus.Counter.Child[]> Exported = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Prometheus.Counter.Child[]> ExportedGrpc = new(StringComparer.Ordinal);
    private static Prometheus.Counter? _exporter;

    /// <summary>From now on every response is also counted in prometheus-net's default registry (called once, when /metrics is mapped).</summary>
    public static void ExportToPrometheus() =>
        _exporter ??= Prometheus.Metrics.CreateCounter("lowlatency_host_responses", ResponsesDescription, new Prometheus.CounterConfiguration { LabelNames = ["protocol", "code", "model"] });

    /// <summary>An answer of the REST routes.</summary>
    public static void RecordResponse(string model, int statusCode)
    {
        int slot = Slot(statusCode);
        if (Responses.Enabled)
        {
            Responses.Add(1, new KeyValuePair<string, object?>("protocol", Http), new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("code", BoxedCodes[slot]));
        }

        if (_exporter is { } exporter)
        {
            // Model names are bounded: served models and "unknown" (the endpoint counts what it does not serve so).
            Exported.GetOrAdd(model, static (m, e) => Bind(e, m, "http", Codes), exporter)[slot].Inc();
        }
    }

    /// <summary>An answer of the gRPC face, by its status value (Grpc.Core's StatusCode).</summary>
    public static void RecordGrpcResponse(string model, int status)
    {
        int slot = (uint)status < (uint)GrpcCodes.Length ? status : 2;
        if (Responses.Enabled)
        {
            Responses.Add(1, new KeyValuePair<string, object?>("protocol", Grpc), new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("code", BoxedGrpcCodes[slot]));
        }

        if (_exporter is { } exporter)
        {
            ExportedGrpc.GetOrAdd(model, static (m, e) => Bind(e, m, "grpc", GrpcCodes), exporter)[slot].Inc();
        }
    }

    private static Prometheus.Counter.Child[] Bind(Prometheus.Counter exporter, string model, string protocol, string[] codes)
    {
        var children = new Prometheus.Counter.Child[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            children[i] = exporter.WithLabels(protocol, codes[i], model);
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
