using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Routing;

namespace LowLatency.Engine.Serving;

/// <summary>
/// The engine's internals through System.Diagnostics.Metrics (meter <c>LowLatency.Engine</c>), so
/// <c>dotnet-counters monitor --counters LowLatency.Engine</c> shows them live. Every measurement is
/// tagged with the model and version. Recording costs a flag check when nobody listens.
/// </summary>
public static class EngineMetrics
{
    public const string MeterName = "LowLatency.Engine";

    private static readonly Meter Meter = new(MeterName, "1.0");
    private static readonly ConcurrentDictionary<ModelVersion, byte> Versions = new();

    // Restarts of versions already stopped, by (model, version): see Unregister.
    private static readonly ConcurrentDictionary<(string, string), int> RetiredRestarts = new();

    /// <summary>Requests answered by the engine, by outcome (ok, bad_request, rejected, deadline_exceeded, unavailable, model_error, cancelled).</summary>
    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("requests", "{request}", EngineMetricDescriptions.Requests);

    private static readonly Histogram<long> Duration = Meter.CreateHistogram<long>("request.duration", "us", EngineMetricDescriptions.Duration);

    private static readonly Histogram<long> Queue = Meter.CreateHistogram<long>("request.queue", "us", EngineMetricDescriptions.Queue);

    private static readonly Histogram<long> Compute = Meter.CreateHistogram<long>("request.compute", "us", EngineMetricDescriptions.Compute);

    private static readonly Histogram<long> Overhead = Meter.CreateHistogram<long>("request.overhead", "us", EngineMetricDescriptions.Overhead);

    private static readonly Histogram<int> BatchRows = Meter.CreateHistogram<int>("batch.size", "{row}", EngineMetricDescriptions.BatchRows);

    private static readonly Counter<long> Routed = Meter.CreateCounter<long>("routing.requests", "{request}", EngineMetricDescriptions.Routed);

    private static readonly Counter<long> Transitions = Meter.CreateCounter<long>("routing.breaker.transitions", "{transition}", "Circuit-breaker state changes of a version, by the state entered");

    private static readonly Counter<long> Autoscale = Meter.CreateCounter<long>("autoscaler.decisions", "{decision}", "The autoscaler's decisions after each window, by action (add, remove, hold)");

    private static readonly string[] AutoscaleActions = ["hold", "add", "remove"];

    private static readonly string[] States = ["closed", "half_open", "open"];

    private static volatile IRequestMetricsExporter? _exporter;

    static EngineMetrics()
    {
        Meter.CreateObservableGauge("queue.depth", ObserveQueueDepth, "{request}", "Requests queued, not yet handed to a worker");
        Meter.CreateObservableGauge("requests.in_flight", ObserveInFlight, "{request}", "Requests submitted and not yet answered");
        Meter.CreateObservableCounter("worker.restarts", ObserveRestarts, "{restart}", "Device worker threads that died and were replaced");
        Meter.CreateObservableGauge("routing.breaker.state", ObserveBreakers, "{state}", "A version's circuit: 0 closed, 1 half-open (probing), 2 open (ejected)");
        Meter.CreateObservableGauge("instances", ObserveInstances, "{instance}", "Device workers (instances) a version runs now; changed at run time by PUT .../instances or the autoscaler");
        Meter.CreateObservableGauge("worker.wake_lead", ObserveWakeLead, "us", "How far ahead of a batching window's end an idle worker is woken, measured from late wake-ups; it spins that long for each window that expires on it");
    }

    /// <summary>
    /// Sends every version's per-request and per-batch measurements to <paramref name="exporter"/> as
    /// well (process-wide, like the meter): what a metrics endpoint serves without listening to those
    /// instruments. They are still recorded on the meter for whoever listens (dotnet-counters).
    /// </summary>
    public static void ExportTo(IRequestMetricsExporter exporter) => _exporter = exporter;

    /// <summary>The names of the instruments an <see cref="IRequestMetricsExporter"/> also receives: a listener that has the exporter can leave these out.</summary>
    public static readonly IReadOnlySet<string> ExportedInstruments = new HashSet<string>([Requests.Name, Duration.Name, Queue.Name, Compute.Name, Overhead.Name, BatchRows.Name, Routed.Name]);

    /// <summary>The outcome label of a status (the enum's order is not the labels' order).</summary>
    public static string OutcomeName(InferenceStatus status) => status switch
    {
        InferenceStatus.Ok => "ok",
        InferenceStatus.BadRequest => "bad_request",
        InferenceStatus.NotFound => "not_found",
        InferenceStatus.TooLarge => "too_large",
        InferenceStatus.Unavailable => "unavailable",
        InferenceStatus.Rejected => "rejected",
        InferenceStatus.DeadlineExceeded => "deadline_exceeded",
        InferenceStatus.ModelError => "model_error",
        InferenceStatus.Cancelled => "cancelled",
        _ => "unknown",
    };

    /// <summary>The route label of a routing decision.</summary>
    public static string RouteName(RouteKind kind) => kind switch
    {
        RouteKind.Version => "version",
        RouteKind.Split => "split",
        RouteKind.Key => "key",
        RouteKind.FallbackModel => "fallback_model",
        RouteKind.FallbackResponse => "fallback_response",
        _ => "unknown",
    };

    /// <summary>The exporter's sink for a version, once one is set; the version caches it.</summary>
    internal static IRequestMetricsSink? SinkFor(ModelVersion version) => _exporter?.For(version.Config.Name, version.VersionString);

    /// <summary>Once per routed request: the version it reached and how.</summary>
    internal static void RecordRoute(ModelVersion version, RouteKind kind)
    {
        version.MetricsSink?.OnRouted(kind);
        if (Routed.Enabled)
        {
            Routed.Add(1, new KeyValuePair<string, object?>("model", version.Config.Name), new KeyValuePair<string, object?>("version", version.VersionString), new KeyValuePair<string, object?>("route", RouteName(kind)));
        }
    }

    internal static void RecordTransition(ModelVersion version, BreakerState state) =>
        Transitions.Add(1, new KeyValuePair<string, object?>("model", version.Config.Name), new KeyValuePair<string, object?>("version", version.VersionString), new KeyValuePair<string, object?>("state", States[(int)state]));

    private static IEnumerable<Measurement<int>> ObserveBreakers()
    {
        // Only versions in routing: during a reload of the same version number the retiring one
        // carries the same labels, and its circuit no longer decides anything.
        foreach (var v in Versions.Keys)
        {
            if (!v.IsRetired)
            {
                yield return new Measurement<int>((int)v.Health.State, Labels(v.Config.Name, v.VersionString));
            }
        }
    }

    internal static void Register(ModelVersion version) => Versions.TryAdd(version, 0);

    internal static void Unregister(ModelVersion version)
    {
        if (Versions.TryRemove(version, out _) && version.WorkerRestarts != 0)
        {
            // A counter must not go down when a version's threads go: its restarts stay counted.
            RetiredRestarts.AddOrUpdate((version.Config.Name, version.VersionString), version.WorkerRestarts, (_, n) => n + version.WorkerRestarts);
        }
    }

    /// <summary>Once per request, when its result is published.</summary>
    internal static void RecordRequest(ModelVersion v, InferenceRequest r)
    {
        long duration = Math.Max(0, r.CompletedUs - r.ArrivalUs);
        bool executed = r.ExecEndUs != 0;
        v.MetricsSink?.OnRequest(r.Status, duration, executed, executed ? r.QueueMicroseconds : 0, executed ? r.ComputeMicroseconds : 0, executed ? r.OverheadMicroseconds : 0);
        if (Requests.Enabled || Duration.Enabled)
        {
            RecordOnMeter(v, r, duration, executed);
        }
    }

    private static void RecordOnMeter(ModelVersion v, InferenceRequest r, long duration, bool executed)
    {
        var model = new KeyValuePair<string, object?>("model", v.Config.Name);
        var version = new KeyValuePair<string, object?>("version", v.VersionString);
        Requests.Add(1, model, version, new KeyValuePair<string, object?>("outcome", OutcomeName(r.Status)));
        Duration.Record(duration, model, version);
        if (executed)
        {
            Queue.Record(r.QueueMicroseconds, model, version);
            Compute.Record(r.ComputeMicroseconds, model, version);
            Overhead.Record(r.OverheadMicroseconds, model, version);
        }
    }

    internal static void RecordAutoscale(ModelVersion model, Scheduling.AutoscaleAction action)
    {
        Autoscale.Add(1, new KeyValuePair<string, object?>("model", model.Config.Name), new KeyValuePair<string, object?>("version", model.VersionString), new KeyValuePair<string, object?>("action", AutoscaleActions[(int)action]));
    }

    internal static void RecordBatch(ModelVersion model, int rows, long computeUs)
    {
        model.MetricsSink?.OnBatch(rows, computeUs);
        if (BatchRows.Enabled)
        {
            BatchRows.Record(rows, new KeyValuePair<string, object?>("model", model.Config.Name), new KeyValuePair<string, object?>("version", model.VersionString));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveQueueDepth() => SumPerVersion(static v => v.QueueDepth, null);

    // Not additive either: a retiring and a new object with one label set would count twice; the larger is shown.
    private static IEnumerable<Measurement<int>> ObserveInstances() => PerVersion(static v => v.Instances, Math.Max, null);

    private static IEnumerable<Measurement<int>> ObserveInFlight() => SumPerVersion(static v => v.InFlight, null);

    // A lead is not additive: of a retiring and a new object with one label set, the longer.
    private static IEnumerable<Measurement<int>> ObserveWakeLead() => PerVersion(static v => v.WakeLeadMicroseconds, Math.Max, null);

    private static IEnumerable<Measurement<long>> ObserveRestarts()
    {
        foreach (var m in SumPerVersion(static v => v.WorkerRestarts, RetiredRestarts))
        {
            yield return new Measurement<long>(m.Value, m.Tags);
        }
    }

    /// <summary>
    /// One measurement per (model, version) label set, combined over the objects that carry it
    /// (<paramref name="combine"/>: summed, or the longer of two leads): while a version reloads, the
    /// retiring and the new one share their labels, and two measurements of one series in one
    /// collection would leave an exporter to keep either (prometheus-net and OpenTelemetry keep the
    /// last). <paramref name="carried"/> counts of retired objects are added. Collection time only,
    /// so the dictionary costs nothing per request.
    /// </summary>
    private static List<Measurement<int>> PerVersion(Func<ModelVersion, int> value, Func<int, int, int> combine, ConcurrentDictionary<(string, string), int>? carried)
    {
        var values = new Dictionary<(string Model, string Version), int>();
        foreach (var v in Versions.Keys)
        {
            var key = (v.Config.Name, v.VersionString);
            values[key] = values.TryGetValue(key, out int seen) ? combine(seen, value(v)) : value(v);
        }

        if (carried is not null)
        {
            foreach (var (key, n) in carried)
            {
                values[key] = values.GetValueOrDefault(key) + n;
            }
        }

        var measurements = new List<Measurement<int>>(values.Count);
        foreach (var ((model, version), combined) in values)
        {
            measurements.Add(new Measurement<int>(combined, Labels(model, version)));
        }

        return measurements;
    }

    private static List<Measurement<int>> SumPerVersion(Func<ModelVersion, int> value, ConcurrentDictionary<(string, string), int>? carried) =>
        PerVersion(value, static (a, b) => a + b, carried);

    private static KeyValuePair<string, object?>[] Labels(string model, string version) =>
        [new("model", model), new("version", version)];
}
