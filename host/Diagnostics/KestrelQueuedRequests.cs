using System.Collections.Concurrent;
using System.Globalization;
using Prometheus;

namespace LowLatency.Host.Diagnostics;

/// <summary>
/// Kestrel's <c>kestrel.queued_requests</c>, recorded twice for every HTTP/2 stream (queued, then
/// started): every gRPC call's. In prometheus-net under the name, help and labels the meter adapter
/// gave it, each distinct set of tag values bound once (and kept: the adapter dropped a series idle
/// for five minutes). Kestrel builds the tags anew for each measurement
/// (the port boxed each time), so they are keyed by value: a handful of short strings and the port.
/// </summary>
internal sealed class KestrelQueuedRequests
{
    public const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";
    public const string Instrument = "kestrel.queued_requests";

    private const int MaxCachedSeries = 4096;

    private readonly Gauge _queued;
    private readonly ConcurrentDictionary<Key, Gauge.Child> _children = new();

    public KestrelQueuedRequests(IMetricFactory factory) =>
        _queued = factory.CreateGauge(
            "microsoft_aspnetcore_server_kestrel_kestrel_queued_requests",
            "({request}) Number of HTTP requests on multiplexed connections (HTTP/2 and HTTP/3) that are currently queued and are waiting to start. (UpDownCounter`1)",
            new GaugeConfiguration { LabelNames = ["network_protocol_name", "network_protocol_version", "network_transport", "network_type", "server_address", "server_port"] });

    public void Add(long delta, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = Key.From(tags);
        if (!_children.TryGetValue(key, out var child))
        {
            child = _queued.WithLabels(key.Values());
            if (_children.Count < MaxCachedSeries)
            {
                _children.TryAdd(key, child);
            }
        }

        child.Inc(delta);
    }

    /// <summary>The tags Kestrel gives the instrument, by value; an absent one is null (the port: -1).</summary>
    private readonly record struct Key(string? Name, string? Version, string? Transport, string? Type, string? Address, int Port)
    {
        public static Key From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? name = null, version = null, transport = null, type = null, address = null;
            int port = -1;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "network.protocol.name": name = tag.Value as string; break;
                    case "network.protocol.version": version = tag.Value as string; break;
                    case "network.transport": transport = tag.Value as string; break;
                    case "network.type": type = tag.Value as string; break;
                    case "server.address": address = tag.Value as string; break;
                    case "server.port": port = tag.Value is int p ? p : -1; break;
                }
            }

            return new Key(name, version, transport, type, address, port);
        }

        /// <summary>The label values in the label order (an absent tag is the empty value, which Prometheus reads as no label).</summary>
        public string[] Values() =>
            [Name ?? "", Version ?? "", Transport ?? "", Type ?? "", Address ?? "", Port < 0 ? "" : Port.ToString(CultureInfo.InvariantCulture)];
    }
}
