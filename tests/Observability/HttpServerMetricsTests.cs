using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using LowLatency.Host.Diagnostics;
using Prometheus;

namespace LowLatency.Tests.Observability;

/// <summary>ASP.NET Core's request duration and active requests, and Kestrel's queued HTTP/2 streams, bound per distinct tag values instead of the meter adapter.</summary>
public sealed partial class HttpServerMetricsTests
{
    [Fact]
    public async Task Every_measurement_lands_once_under_its_labels_whether_its_tag_objects_repeat_or_are_new()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new HttpServerMetrics([0.001, 0.01, 0.1], Metrics.WithCustomRegistry(registry));
        // The same names ASP.NET Core's meter has: the listener takes instruments by them.
        using var meter = new Meter(HttpServerMetrics.HostingMeter);
        var duration = meter.CreateHistogram<double>(HttpServerMetrics.DurationInstrument);
        var active = meter.CreateUpDownCounter<long>(HttpServerMetrics.ActiveInstrument);
        object ok = 200;
        // Servers of other tests in this process feed the listener too: this test's series are the
        // ones with its own route and methods.
        string unique = Guid.NewGuid().ToString("N");
        string route = "/v2/models/{name}/infer-" + unique;
        string post = "POST-" + unique, get = "GET-" + unique;
        for (int i = 0; i < 300; i++)
        {
            active.Add(1, new("http.request.method", post), new("url.scheme", "http"));
            // Cached objects, as ASP.NET Core passes them ...
            duration.Record(0.005, new("http.request.method", post), new("url.scheme", "http"), new("http.route", route), new("http.response.status_code", ok), new("network.protocol.version", "1.1"));
            // ... and equal values in new objects each time: more keys, the same series.
            duration.Record(0.05, new("http.request.method", post), new("url.scheme", "http"), new("http.route", new string(route.AsSpan())), new("http.response.status_code", (object)200), new("network.protocol.version", "1.1"));
            active.Add(-1, new("http.request.method", post), new("url.scheme", "http"));
        }

        // An error tag comes with failed requests only.
        duration.Record(0.5, new("http.request.method", post), new("url.scheme", "http"), new("http.route", route), new("http.response.status_code", (object)500), new("network.protocol.version", "1.1"), new("error.type", "System.InvalidOperationException"));
        active.Add(1, new("http.request.method", get), new("url.scheme", "http"));

        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        string text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        string ok200 = $"error_type=\"\",http_request_method=\"{post}\",http_response_status_code=\"200\",http_route=\"{route}\",network_protocol_version=\"1.1\",url_scheme=\"http\"";
        Assert.Equal("600", Value(text, $"microsoft_aspnetcore_hosting_http_server_request_duration_count{{{ok200}}}"));
        Assert.Equal("300", Value(text, $"microsoft_aspnetcore_hosting_http_server_request_duration_bucket{{{ok200},le=\"0.01\"}}"));
        Assert.Equal("1", Value(text, $"microsoft_aspnetcore_hosting_http_server_request_duration_count{{error_type=\"System.InvalidOperationException\",http_request_method=\"{post}\",http_response_status_code=\"500\",http_route=\"{route}\",network_protocol_version=\"1.1\",url_scheme=\"http\"}}"));
        Assert.Equal("0", Value(text, $"microsoft_aspnetcore_hosting_http_server_active_requests{{http_request_method=\"{post}\",url_scheme=\"http\"}}"));
        Assert.Equal("1", Value(text, $"microsoft_aspnetcore_hosting_http_server_active_requests{{http_request_method=\"{get}\",url_scheme=\"http\"}}"));
        int series = 0;
        foreach (Match m in SeriesCount().Matches(text))
        {
            series += text.IndexOf('\n', m.Index) is int end && text[m.Index..end].Contains(route, StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.Equal(2, series);
    }

    [Fact]
    public async Task Kestrel_s_queued_streams_land_in_one_series_per_endpoint_though_each_measurement_brings_new_tag_objects()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new HttpServerMetrics([0.001], Metrics.WithCustomRegistry(registry));
        using var meter = new Meter(KestrelQueuedRequests.KestrelMeter);
        var queued = meter.CreateUpDownCounter<long>(KestrelQueuedRequests.Instrument);
        // Other tests' servers feed the listener too: this test's endpoint has an address of its own.
        string address = "127.0.0." + Random.Shared.Next(2, 250) + "-" + Guid.NewGuid().ToString("N");
        for (int i = 0; i < 300; i++)
        {
            // As Kestrel records them: the tags built for each call, the port boxed each time.
            queued.Add(1, Tags(address, 8001, "2"));
            queued.Add(-1, Tags(address, 8001, "2"));
        }

        queued.Add(1, Tags(address, 8001, "2"));
        queued.Add(1, Tags(address, 8002, "3"));
        queued.Add(1, Tags(address, 8002, "3"));

        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        string text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        string Series(int port, string version) =>
            $"microsoft_aspnetcore_server_kestrel_kestrel_queued_requests{{network_protocol_name=\"http\",network_protocol_version=\"{version}\",network_transport=\"tcp\",network_type=\"ipv4\",server_address=\"{address}\",server_port=\"{port}\"}}";
        Assert.Equal("1", Value(text, Series(8001, "2")));
        Assert.Equal("2", Value(text, Series(8002, "3")));
        Assert.Equal(2, text.Split('\n').Count(l => l.Contains(address, StringComparison.Ordinal)));
        Assert.True(HttpServerMetrics.IsExported(queued), "the meter adapter would take it as well");
    }

    private static TagList Tags(string address, int port, string version) => new()
    {
        { "server.address", new string(address.AsSpan()) },
        { "server.port", port },
        { "network.type", "ipv4" },
        { "network.transport", "tcp" },
        { "network.protocol.name", "http" },
        { "network.protocol.version", version },
    };

    private static string? Value(string text, string series)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return line[(series.Length + 1)..].Trim();
            }
        }

        return null;
    }

    [GeneratedRegex(@"^microsoft_aspnetcore_hosting_http_server_request_duration_count\{", RegexOptions.Multiline)]
    private static partial Regex SeriesCount();
}
