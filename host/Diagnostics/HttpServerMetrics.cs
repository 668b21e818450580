using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Prometheus;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// ASP.NET Core's two per-request instruments, <c>http.server.request.duration</c> and
/// <c>http.server.active_requests</c> (and Kestrel's per-stream one, <see cref="KestrelQueuedRequests"/>), in prometheus-net under the names and labels the meter adapter
/// gave them, with each distinct set of tag values bound to its child once: through the adapter every
/// request's measurements would resolve their labels again (docs/performance.md#metrics-sinks).
/// The tag values ASP.NET Core passes are its own cached objects (the route pattern, method and
/// scheme constants, unknown methods as "_OTHER", boxed status codes), so they are keyed by
/// reference; a value built per request would only miss the cache, and past
/// <see cref="MaxCachedSeries"/> keys measurements are resolved by value without caching.
/// </summary>
internal sealed class HttpServerMetrics : IDisposable
{
    public const string HostingMeter = "Microsoft.AspNetCore.Hosting";
    public const string DurationInstrument = "http.server.request.duration";
    public const string ActiveInstrument = "http.server.active_requests";

    private const int MaxCachedSeries = 4096;

    // Label names as the adapter wrote them (tag names with '.' → '_'), in its (alphabetical) order.
    private static readonly string[] DurationTags = ["error.type", "http.request.method", "http.response.status_code", "http.route", "network.protocol.version", "url.scheme"];
    private static readonly string[] ActiveTags = ["http.request.method", "url.scheme"];

    private readonly Histogram _duration;
    private readonly Gauge _active;
    private readonly ConcurrentDictionary<TagKey, Histogram.Child> _durationChildren = new();
    private readonly ConcurrentDictionary<TagKey, Gauge.Child> _activeChildren = new();
    private readonly KestrelQueuedRequests _queued;
    private readonly MeterListener _listener = new();

    /// <param name="secondBuckets">Histogram buckets, in seconds.</param>
    /// <param name="factory">Where the series go (tests give their own registry); the default registry otherwise.</param>
    public HttpServerMetrics(double[] secondBuckets, IMetricFactory? factory = null)
    {
        factory ??= Metrics.DefaultFactory;
        _duration = factory.CreateHistogram("microsoft_aspnetcore_hosting_http_server_request_duration", "Duration of HTTP server requests.", new HistogramConfiguration { LabelNames = Labels(DurationTags), Buckets = secondBuckets });
        _active = factory.CreateGauge("microsoft_aspnetcore_hosting_http_server_active_requests", "Number of active HTTP server requests.", new GaugeConfiguration { LabelNames = Labels(ActiveTags) });
        _queued = new KestrelQueuedRequests(factory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (IsExported(instrument))
            {
                // The state says which series a long measurement goes to, without comparing names per measurement.
                listener.EnableMeasurementEvents(instrument, instrument.Meter.Name == KestrelQueuedRequests.KestrelMeter ? _queued : this);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((HttpServerMetrics)state!).OnDuration(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) =>
        {
            if (state is KestrelQueuedRequests queued)
            {
                queued.Add(value, tags);
            }
            else
            {
                ((HttpServerMetrics)state!).OnActive(value, tags);
            }
        });
        _listener.Start();
    }

    /// <summary>Whether this exporter, not the meter adapter, takes <paramref name="instrument"/>.</summary>
    public static bool IsExported(Instrument instrument) =>
        (instrument.Meter.Name == HostingMeter && instrument.Name is DurationInstrument or ActiveInstrument)
        || (instrument.Meter.Name == KestrelQueuedRequests.KestrelMeter && instrument.Name == KestrelQueuedRequests.Instrument);

    private void OnDuration(double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        Bound(_durationChildren, TagKey.From(tags, DurationTags), DurationTags.Length, _duration).Observe(seconds);

    private void OnActive(long delta, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        Bound(_activeChildren, TagKey.From(tags, ActiveTags), ActiveTags.Length, _active).Inc(delta);

    /// <summary>The child for these tag values: cached by reference, bound by value on a miss.</summary>
    private static TChild Bound<TChild>(ConcurrentDictionary<TagKey, TChild> children, TagKey key, int labels, Collector<TChild> collector)
        where TChild : ChildBase
    {
        if (!children.TryGetValue(key, out var child))
        {
            child = collector.WithLabels(key.Values(labels));
            if (children.Count < MaxCachedSeries)
            {
                children.TryAdd(key, child);
            }
        }

        return child;
    }

    private static string[] Labels(string[] tags)
    {
        var labels = new string[tags.Length];
        for (int i = 0; i < tags.Length; i++)
        {
            labels[i] = tags[i].Replace('.', '_');
        }

        return labels;
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Up to six tag values, in the label order, compared by reference.</summary>
    private readonly struct TagKey : IEquatable<TagKey>
    {
        private readonly object? _a, _b, _c, _d, _e, _f;

        private TagKey(object? a, object? b, object? c, object? d, object? e, object? f) => (_a, _b, _c, _d, _e, _f) = (a, b, c, d, e, f);

        public static TagKey From(ReadOnlySpan<KeyValuePair<string, object?>> tags, string[] names)
        {
            object? a = null, b = null, c = null, d = null, e = null, f = null;
            foreach (var tag in tags)
            {
                int i = Array.IndexOf(names, tag.Key);
                switch (i)
                {
                    case 0: a = tag.Value; break;
                    case 1: b = tag.Value; break;
                    case 2: c = tag.Value; break;
                    case 3: d = tag.Value; break;
                    case 4: e = tag.Value; break;
                    case 5: f = tag.Value; break;
                }
            }

            return new TagKey(a, b, c, d, e, f);
        }

        /// <summary>The label values (an absent tag is the empty value, which Prometheus reads as no label).</summary>
        public string[] Values(int count)
        {
            object?[] all = [_a, _b, _c, _d, _e, _f];
            var values = new string[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = all[i]?.ToString() ?? "";
            }

            return values;
        }

        public bool Equals(TagKey other) =>
            ReferenceEquals(_a, other._a) && ReferenceEquals(_b, other._b) && ReferenceEquals(_c, other._c)
            && ReferenceEquals(_d, other._d) && ReferenceEquals(_e, other._e) && ReferenceEquals(_f, other._f);

        public override bool Equals(object? obj) => obj is TagKey k && Equals(k);

        public override int GetHashCode() => HashCode.Combine(
            RuntimeHelpers.GetHashCode(_a!), RuntimeHelpers.GetHashCode(_b!), RuntimeHelpers.GetHashCode(_c!),
            RuntimeHelpers.GetHashCode(_d!), RuntimeHelpers.GetHashCode(_e!), RuntimeHelpers.GetHashCode(_f!));
    }
}
