using System.Collections.Concurrent;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using Prometheus;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// The engine's per-request and per-batch series in prometheus-net, under the names the meter adapter
/// gave them (dashboards keep working), with each (model, version)'s label children bound once: a
/// measurement is a bucket increment, not a tag lookup (docs/performance.md#metrics-sinks).
/// </summary>
internal sealed class PrometheusRequestMetrics(double[] microsecondBuckets, double[] rowBuckets) : IRequestMetricsExporter
{
    private static readonly InferenceStatus[] Statuses = Enum.GetValues<InferenceStatus>();
    private static readonly RouteKind[] Routes = Enum.GetValues<RouteKind>();

    private readonly Counter _requests = Metrics.CreateCounter("lowlatency_engine_requests", EngineMetricDescriptions.Requests, new CounterConfiguration { LabelNames = ["model", "outcome", "version"] });
    private readonly Histogram _duration = Histogram("lowlatency_engine_request_duration", EngineMetricDescriptions.Duration + ", us", microsecondBuckets);
    private readonly Histogram _queue = Histogram("lowlatency_engine_request_queue", EngineMetricDescriptions.Queue + ", us", microsecondBuckets);
    private readonly Histogram _compute = Histogram("lowlatency_engine_request_compute", EngineMetricDescriptions.Compute + ", us", microsecondBuckets);
    private readonly Histogram _overhead = Histogram("lowlatency_engine_request_overhead", EngineMetricDescriptions.Overhead + ", us", microsecondBuckets);
    private readonly Histogram _batchRows = Histogram("lowlatency_engine_batch_size", EngineMetricDescriptions.BatchRows, rowBuckets);
    private readonly Counter _routed = Metrics.CreateCounter("lowlatency_engine_routing_requests", EngineMetricDescriptions.Routed, new CounterConfiguration { LabelNames = ["model", "route", "version"] });
    private readonly ConcurrentDictionary<(string Model, string Version), Sink> _sinks = new();

    public IRequestMetricsSink For(string model, string version) => _sinks.GetOrAdd((model, version), static (key, self) => new Sink(self, key.Model, key.Version), this);

    private static Histogram Histogram(string name, string help, double[] buckets) =>
        Metrics.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = ["model", "version"], Buckets = buckets });

    private sealed class Sink : IRequestMetricsSink
    {
        private readonly Counter.Child[] _requests;
        private readonly Histogram.Child _duration;
        private readonly Histogram.Child _queue;
        private readonly Histogram.Child _compute;
        private readonly Histogram.Child _overhead;
        private readonly Histogram.Child _batchRows;
        private readonly Counter.Child[] _routed;
        private readonly ModelStatistics _statistics;

        public Sink(PrometheusRequestMetrics m, string model, string version)
        {
            _requests = new Counter.Child[Statuses.Length];
            foreach (var s in Statuses)
            {
                _requests[(int)s] = m._requests.WithLabels(model, EngineMetrics.OutcomeName(s), version);
            }

            _routed = new Counter.Child[Routes.Length];
            foreach (var k in Routes)
            {
                _routed[(int)k] = m._routed.WithLabels(model, EngineMetrics.RouteName(k), version);
            }

            _duration = m._duration.WithLabels(model, version);
            _queue = m._queue.WithLabels(model, version);
            _compute = m._compute.WithLabels(model, version);
            _overhead = m._overhead.WithLabels(model, version);
            _batchRows = m._batchRows.WithLabels(model, version);
            _statistics = ModelStatistics.Register(new ModelStatistics(model, version, _requests, _queue, _compute, _batchRows));
        }

        public void OnRequest(InferenceStatus status, long durationUs, bool executed, long queueUs, long computeUs, long overheadUs)
        {
            if ((uint)status < (uint)_requests.Length)
            {
                _requests[(int)status].Inc();
            }

            _duration.Observe(durationUs);
            _statistics.OnRequest(status, durationUs);
            if (executed)
            {
                _queue.Observe(queueUs);
                _compute.Observe(computeUs);
                _overhead.Observe(overheadUs);
            }
        }

        public void OnBatch(int rows, long computeUs)
        {
            _batchRows.Observe(rows);
            _statistics.OnBatch(rows, computeUs);
        }

        public void OnRouted(RouteKind kind)
        {
            if ((uint)kind < (uint)_routed.Length)
            {
                _routed[(int)kind].Inc();
            }
        }
    }
}
