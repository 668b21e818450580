using LowLatency.Engine.Serving;
using LowLatency.Features.Diagnostics;
using Prometheus;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format (prometheus-net): the engine's per-request and
/// per-batch series bound per version (<see cref="Diagnostics.PrometheusRequestMetrics"/>) and the
/// near cache's per-read ones (<see cref="Diagnostics.PrometheusFeatureMetrics"/>), the rest of its meter (<see cref="EngineMetrics"/>: gauges, breaker transitions) and ASP.NET Core's and
/// Kestrel's and the feature store's (meter <c>LowLatency.Features</c>, where one is open) through
/// prometheus-net's System.Diagnostics.Metrics adapter, plus its default .NET
/// runtime and process metrics. Names and their Triton counterparts: README.
/// </summary>
internal static class MetricsEndpoint
{
    // Microsecond-resolving buckets for every µs histogram: 1-2-5 steps from 1 µs to 10 s.
    private static readonly double[] MicrosecondBuckets = [.. Steps(1, 10_000_000)];

    // ASP.NET Core's and Kestrel's own histograms are in seconds: the same 1-2-5 steps, 1 µs to 10 s.
    private static readonly double[] SecondBuckets = [.. Steps(1, 10_000_000).Select(us => us / 1e6)];

    // Rows per batch: every size up to 8, then powers of two.
    private static readonly double[] RowBuckets = [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 128, 256, 512, 1024];

    /// <summary>The .NET runtime's EventSource, the only one whose counters are read (see <see cref="ConfigureOnce"/>).</summary>
    internal const string RuntimeEventSource = "System.Runtime";

    private static readonly Lock Gate = new();
    private static bool _configured;

    // Listens for the process's life, as the adapter does.
    private static Diagnostics.HttpServerMetrics? _httpServer;

    public static void Map(WebApplication app)
    {
        ConfigureOnce();
        app.MapMetrics("/metrics");
    }

    /// <summary>prometheus-net's adapter is process-wide; configure it once, before it starts listening.</summary>
    private static void ConfigureOnce()
    {
        lock (Gate)
        {
            if (_configured)
            {
                return;
            }

            _configured = true;
            // prometheus-net attaches the current trace's ids to every observation as an exemplar, and
            // ASP.NET Core starts an Activity for every request whether or not anything records it:
            // without tracing, each observation would pay for ids that lead nowhere
            // (Exemplar.FromTraceContext). Only an activity that a listener (the OTLP exporter,
            // Tracing.cs) sampled gives one (docs/performance.md#metrics-sinks).
            Metrics.DefaultFactory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = static (_, _) => TracedExemplar() };

            // The engine's per-request and per-batch series, the near cache's per-read ones, the host's
            // response counter, ASP.NET Core's request duration and active requests and Kestrel's queued
            // HTTP/2 streams go straight to bound prometheus-net children; the adapter takes the engine's
            // and the feature store's gauges and rarer series, and Kestrel's per-connection ones.
            EngineMetrics.ExportTo(new Diagnostics.PrometheusRequestMetrics(MicrosecondBuckets, RowBuckets));
            Diagnostics.HostMetrics.ExportToPrometheus();
            FeatureMetrics.ExportTo(new Diagnostics.PrometheusFeatureMetrics(MicrosecondBuckets));
            _httpServer = new Diagnostics.HttpServerMetrics(SecondBuckets);
            Metrics.ConfigureMeterAdapter(o =>
            {
                // Kestrel's connection metrics, and any Hosting or Kestrel instrument HttpServerMetrics does not take, beside ours.
                // The feature store's meter exists once a store is open (LowLatency:FeatureRepository), the
                // stream processor's once it runs in this process (LowLatency:Streams:Enabled).
                o.InstrumentFilterPredicate = i => (i.Meter.Name == EngineMetrics.MeterName && !EngineMetrics.ExportedInstruments.Contains(i.Name))
                    || (i.Meter.Name == FeatureMetrics.MeterName && !FeatureMetrics.ExportedInstruments.Contains(i.Name))
                    || i.Meter.Name == Streams.Diagnostics.StreamMetrics.MeterName
                    || (i.Meter.Name is Diagnostics.HttpServerMetrics.HostingMeter or Diagnostics.KestrelQueuedRequests.KestrelMeter && !Diagnostics.HttpServerMetrics.IsExported(i));
                o.ResolveHistogramBuckets = i => i.Unit == "s" ? SecondBuckets : MicrosecondBuckets;
            });

            // prometheus-net's event-counter adapter enables each EventSource it reads at Informational
            // level, which for ASP.NET Core's Hosting and Kestrel sources also turns on their
            // per-request events (RequestStart/RequestStop, written on every request), for counters
            // the meters above already give (requests, connections). Only the runtime's counters
            // (GC, thread pool, CPU, allocations) are read (docs/performance.md#metrics-sinks).
            Metrics.ConfigureEventCounterAdapter(o => o.EventSourceFilterPredicate = name => name == RuntimeEventSource);

            // The adapter creates its Prometheus metrics on the first collection and drops what was
            // measured before: collect once now, so the counts start with the server.
            Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
        }
    }

    private static Exemplar TracedExemplar() =>
        System.Diagnostics.Activity.Current is { Recorded: true } a && a.Source.HasListeners() ? Exemplar.FromTraceContext() : Exemplar.None;

    private static IEnumerable<double> Steps(double from, double to)
    {
        for (double decade = from; decade <= to; decade *= 10)
        {
            yield return decade;
            yield return decade * 2;
            yield return decade * 5;
        }
    }
}
