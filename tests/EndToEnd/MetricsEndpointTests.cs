using System.Net;
using System.Text.RegularExpressions;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

/// <summary>GET /metrics: Prometheus text with the engine's counters and µs histograms per model and version, and the runtime's.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class MetricsEndpointTests(ServerFixture server)
{
    [Fact]
    public async Task Metrics_count_answered_requests_per_model_and_version_with_microsecond_buckets()
    {
        string first = await ScrapeAsync();
        long before = Count(first, "lowlatency_engine_requests", "ctr-ranker", "outcome=\"ok\"");
        long rowsBefore = Count(first, "lowlatency_engine_batch_size_sum", "ctr-ranker", null);
        var golden = GoldenCase.Load("ctr-ranker", "batch8");
        for (int i = 0; i < 3; i++)
        {
            using var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        string text = await ScrapeAsync();
        // At least: the meter is process-wide, and other tests run ctr-ranker engines in parallel.
        Assert.True(Count(text, "lowlatency_engine_requests", "ctr-ranker", "outcome=\"ok\"") >= before + 3);
        // Every answered request is in the duration and compute histograms; rows per batch too.
        Assert.True(Count(text, "lowlatency_engine_request_duration_count", "ctr-ranker", null) >= before + 3);
        Assert.True(Count(text, "lowlatency_engine_request_compute_count", "ctr-ranker", null) >= before + 3);
        Assert.True(Count(text, "lowlatency_engine_batch_size_sum", "ctr-ranker", null) >= rowsBefore + (3 * 8));
        foreach (var le in new[] { "1", "2", "5", "10", "20", "50", "100" })
        {
            Assert.Contains($"lowlatency_engine_request_overhead_bucket{{model=\"ctr-ranker\",version=\"1\",le=\"{le}\"}}", text, StringComparison.Ordinal);
        }

        Assert.Contains("lowlatency_engine_queue_depth{model=\"ctr-ranker\",version=\"1\"}", text, StringComparison.Ordinal);
        Assert.Contains("lowlatency_engine_requests_in_flight{model=\"ctr-ranker\",version=\"1\"}", text, StringComparison.Ordinal);
        Assert.Contains("lowlatency_engine_worker_restarts{model=\"ctr-ranker\",version=\"1\"}", text, StringComparison.Ordinal);
        Assert.Contains("lowlatency_engine_worker_wake_lead{model=\"ctr-ranker\",version=\"1\"} ", text, StringComparison.Ordinal);
        Assert.Contains("process_cpu_seconds_total", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_collection_count_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serving_metrics_turns_on_no_per_request_events_of_ASP_NET_Core_or_Kestrel_but_keeps_the_runtime_counters()
    {
        using (var ok = await server.Client.GetAsync("/v2/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Listeners are process-wide: what prometheus-net enabled is what these report.
        var sources = System.Diagnostics.Tracing.EventSource.GetSources().ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var name in new[] { "Microsoft.AspNetCore.Hosting", "Microsoft-AspNetCore-Server-Kestrel" })
        {
            Assert.True(sources.ContainsKey(name), $"{name} exists in a server process");
            Assert.False(sources[name].IsEnabled(), $"{name} is enabled: every request would write its events");
        }

        Assert.True(sources[Host.Endpoints.MetricsEndpoint.RuntimeEventSource].IsEnabled());
        string text = await ScrapeUntilAsync("system_runtime_");
        Assert.Contains("system_runtime_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("microsoft_aspnetcore_hosting_requests_per_second", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_the_engine_never_saw_are_counted_by_model_and_code_and_unknown_names_do_not_become_labels()
    {
        string before = await ScrapeAsync();
        long bad = Count(before, "lowlatency_host_responses", "ctr-ranker", "code=\"400\"", version: false);
        long unknown = Count(before, "lowlatency_host_responses", "unknown", "code=\"404\"", version: false);
        using (var r = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body([0xC1], Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await server.Client.PostAsync("/v2/models/no-such-model-x7/infer", ServerFixture.Body([0x80], Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        string text = await ScrapeAsync();
        Assert.True(Count(text, "lowlatency_host_responses", "ctr-ranker", "code=\"400\"", version: false) >= bad + 1);
        Assert.True(Count(text, "lowlatency_host_responses", "unknown", "code=\"404\"", version: false) >= unknown + 1);
        Assert.DoesNotContain("no-such-model-x7", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v2/models/no-such-model-v8/versions/x/infer", HttpStatusCode.BadRequest)]
    [InlineData("/v2/models/no-such-model-v9/versions/3/infer", HttpStatusCode.NotFound)]
    public async Task A_versioned_route_counts_a_name_that_is_not_served_as_unknown(string path, HttpStatusCode status)
    {
        using (var r = await server.Client.PostAsync(path, ServerFixture.Body([0x80], Wire.MsgPack)))
        {
            Assert.Equal(status, r.StatusCode);
        }

        string text = await ScrapeAsync();
        Assert.DoesNotContain("no-such-model-v", text, StringComparison.Ordinal);
        Assert.True(Count(text, "lowlatency_host_responses", "unknown", $"code=\"{(int)status}\"", version: false) >= 1);
    }

    [Fact]
    public async Task Every_series_the_Grafana_dashboard_queries_is_served()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using (var ok = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack)))
        using (var bad = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body([0xC1], Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        string text = await ScrapeAsync();
        using var dashboard = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "ops", "grafana", "lowlatency.json")));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                foreach (Match m in MetricName().Matches(target.GetProperty("expr").GetString()!))
                {
                    names.Add(m.Value);
                }
            }
        }

        Assert.True(names.Count >= 10, string.Join(", ", names));
        // The gateway's and the feature store's series exist only on a server with aliases or a feature
        // repository, which this one has not: GatewayEndToEndTests and FeatureRoutesTests scrape those.
        string[] optional = ["lowlatency_gateway_", "lowlatency_features_"];
        Assert.Contains(names, n => n.StartsWith(optional[0], StringComparison.Ordinal));
        Assert.All(names.Where(n => !optional.Any(o => n.StartsWith(o, StringComparison.Ordinal))), name => Assert.Matches(new Regex($"^{name}[{{ ]", RegexOptions.Multiline), text));
    }

    /// <summary>
    /// The HorizontalPodAutoscaler scales on custom metrics the Prometheus adapter computes from the
    /// server's series (deploy/monitoring/prometheus-adapter-values.yaml): every series its queries
    /// read, with the label values they select, must be served, or the autoscaler sees nothing.
    /// </summary>
    [Fact]
    public async Task Every_series_the_autoscalers_Prometheus_adapter_rules_read_is_served()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using (var ok = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        string text = await ScrapeAsync();
        string rules = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "monitoring", "prometheus-adapter-values.yaml"));
        var selectors = AdapterQueries(rules).SelectMany(q => SeriesSelector().Matches(q)).ToList();
        var names = selectors.Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        // The queue delay's two halves, and the rejections.
        Assert.Superset(new HashSet<string>(["lowlatency_engine_request_queue_sum", "lowlatency_engine_request_queue_count", "lowlatency_engine_requests"], StringComparer.Ordinal), names);
        foreach (Match selector in selectors)
        {
            string name = selector.Groups["name"].Value;
            Assert.Matches(new Regex($"^{name}\\{{", RegexOptions.Multiline), text);
            // Equality matchers (outcome="rejected") must select a served series; namespace!="" and
            // pod!="" are Prometheus' target labels, <<.LabelMatchers>> the adapter's.
            foreach (Match label in LabelEquals().Matches(selector.Groups["labels"].Value))
            {
                string matcher = $"{label.Groups[1].Value}=\"{label.Groups[2].Value}\"";
                Assert.Matches(new Regex($"^{name}\\{{[^}}]*\\b{Regex.Escape(matcher)}", RegexOptions.Multiline), text);
            }
        }
    }

    /// <summary>The text of every seriesQuery and metricsQuery in the adapter's values, folded block scalars included.</summary>
    private static IEnumerable<string> AdapterQueries(string yaml)
    {
        string[] lines = yaml.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            Match key = QueryKey().Match(lines[i]);
            if (!key.Success)
            {
                continue;
            }

            int indent = key.Groups["indent"].Length;
            var query = new System.Text.StringBuilder(key.Groups["rest"].Value);
            while (i + 1 < lines.Length && lines[i + 1].Trim().Length > 0 && lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent)
            {
                query.Append(' ').Append(lines[++i].Trim());
            }

            yield return query.ToString();
        }
    }

    [GeneratedRegex(@"^(?<indent>[ -]*)(?:seriesQuery|metricsQuery):(?<rest>.*)$")]
    private static partial Regex QueryKey();

    [GeneratedRegex(@"\b(?<name>lowlatency_[a-z_]+)\{(?<labels>[^}]*)\}")]
    private static partial Regex SeriesSelector();

    [GeneratedRegex(@"\b([a-z_]+)=""([^""]*)""")]
    private static partial Regex LabelEquals();

    [Fact]
    public async Task AspNetCore_and_Kestrel_meters_are_served_with_microsecond_resolving_buckets()
    {
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using (var response = await server.Client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        string text = await ScrapeAsync();
        Assert.Contains("microsoft_aspnetcore_hosting_http_server_request_duration_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("http_route=\"/v2/models/{name}/infer\"", text, StringComparison.Ordinal);
        // Seconds, with buckets down to a microsecond.
        Assert.Matches(new Regex("microsoft_aspnetcore_hosting_http_server_request_duration_bucket\\{[^}]*le=\"1E-06\"|le=\"1e-06\"|le=\"0.000001\""), text);
        Assert.Contains("microsoft_aspnetcore_server_kestrel_kestrel_active_connections", text, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b(lowlatency|process|dotnet)_[a-z_]+\b")]
    private static partial Regex MetricName();

    private async Task<string> ScrapeAsync()
    {
        using var response = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Scrapes until the text holds <paramref name="part"/> (event counters arrive once a second), at most 15 s.</summary>
    private async Task<string> ScrapeUntilAsync(string part)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string text = await ScrapeAsync();
        while (!text.Contains(part, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            text = await ScrapeAsync();
        }

        return text;
    }

    private static long Count(string text, string name, string model, string? label, bool version = true) =>
        (long)PrometheusText.Value(text, name, model, label, version);
}
