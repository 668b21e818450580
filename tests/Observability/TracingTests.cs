using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Grpc.Core;
using LowLatency.Engine.Diagnostics;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LowLatency.Tests.Observability;

/// <summary>Spans per request (queue, execute) and per batch (linked to its requests), and their export over OTLP.</summary>
public sealed class TracingTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task Each_request_has_queue_and_execute_spans_and_each_batch_a_span_linked_to_its_requests()
    {
        // A model name of its own: the listener hears every server in the process, and other test
        // classes serve a "ctr-ranker" too, some of whose answers never reach the engine (a fallback
        // answer has no queue or execute span).
        using var repo = new CtrRepository(name: "traced-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EngineTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        // Sixteen at once: some of them share batches.
        var sends = Enumerable.Range(0, 16).Select(_ => client.PostAsync($"/v2/models/{repo.Name}/infer", ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack))).ToList();
        foreach (var s in sends)
        {
            using var r = await s;
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        // A span reaches the listener when it stops: a request's when the endpoint's handler returns,
        // which may be after the client has read the response. Wait until every request's spans, and
        // the batch spans they link to, are in.
        bool AllStopped()
        {
            var stopped = spans.ToList();
            var infer = stopped.Where(a => a.DisplayName == $"infer {repo.Name}").ToList();
            return infer.Count >= 16 && infer.All(request =>
                stopped.Any(c => c.ParentSpanId == request.SpanId && c.DisplayName == "queue")
                && stopped.Any(c => c.ParentSpanId == request.SpanId && c.DisplayName == "execute"
                    && c.Links.Any(l => stopped.Any(b => b.SpanId == l.Context.SpanId && b.DisplayName == $"batch {repo.Name}"))));
        }

        await Poll.UntilAsync(AllStopped);
        var all = spans.ToList();
        var requests = all.Where(a => a.DisplayName == $"infer {repo.Name}").ToList();
        Assert.Equal(16, requests.Count);
        var batches = all.Where(a => a.DisplayName == $"batch {repo.Name}").ToList();
        Assert.NotEmpty(batches);
        foreach (var request in requests)
        {
            var children = all.Where(a => a.ParentSpanId == request.SpanId).ToList();
            var queue = Assert.Single(children, c => c.DisplayName == "queue");
            var execute = Assert.Single(children, c => c.DisplayName == "execute");
            Assert.True(queue.StartTimeUtc >= request.StartTimeUtc.AddMilliseconds(-1) && queue.StartTimeUtc + queue.Duration <= execute.StartTimeUtc.AddMilliseconds(1));
            Assert.Equal(repo.Name, request.GetTagItem("model"));
            Assert.Equal("Ok", request.GetTagItem("outcome"));

            // The execute span links to its batch's span, which links back to the request.
            var batchContext = Assert.Single(execute.Links).Context;
            var batch = Assert.Single(batches, b => b.SpanId == batchContext.SpanId);
            Assert.Contains(batch.Links, l => l.Context.SpanId == request.SpanId);
            Assert.True((int)batch.GetTagItem("batch.requests")! >= 1);
        }
    }

    [Fact]
    public async Task Each_grpc_request_unary_or_on_a_stream_has_its_span_with_queue_and_execute()
    {
        using var repo = new CtrRepository(name: "traced-grpc-" + Guid.NewGuid().ToString("N")[..8], versions: 1);
        await using var server = await LowLatency.Tests.Grpc.GrpcReadyServer.StartAsync(repo.Root);
        var client = server.Client;
        var request = LowLatency.Tests.Grpc.GrpcWire.Request(repo.Name, Golden.Request, raw: true);

        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EngineTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        // The request spans stopped so far, once each has its queue and execute spans.
        List<Activity> Requests()
        {
            var stopped = spans.ToList();
            return [.. stopped.Where(a => a.DisplayName == $"infer {repo.Name}"
                && stopped.Any(c => c.ParentSpanId == a.SpanId && c.DisplayName == "queue")
                && stopped.Any(c => c.ParentSpanId == a.SpanId && c.DisplayName == "execute"))];
        }

        for (int i = 0; i < 4; i++)
        {
            Wire.AssertClose(Golden.Expected[0], LowLatency.Tests.Grpc.GrpcWire.Result(await client.ModelInferAsync(request)).Outputs[0]);
        }

        Assert.True(await Poll.UntilAsync(() => Requests().Count >= 4, TimeSpan.FromSeconds(20)), $"{Requests().Count} of 4 unary calls traced");

        using (var call = client.ModelStreamInfer())
        {
            for (int i = 0; i < 8; i++)
            {
                await call.RequestStream.WriteAsync(request);
            }

            await call.RequestStream.CompleteAsync();
            int answers = 0;
            while (await call.ResponseStream.MoveNext())
            {
                Assert.Equal("", call.ResponseStream.Current.ErrorMessage);
                answers++;
            }

            Assert.Equal(8, answers);
        }

        // One span per request of the stream, as per unary call: 12 in all.
        Assert.True(await Poll.UntilAsync(() => Requests().Count >= 12, TimeSpan.FromSeconds(20)), $"{Requests().Count - 4} of 8 stream requests traced");
        var traced = Requests();
        Assert.Equal(12, traced.Count);
        Assert.All(traced, s =>
        {
            Assert.Equal(repo.Name, s.GetTagItem("model"));
            Assert.Equal("1", s.GetTagItem("model.version"));
            Assert.Equal("Ok", s.GetTagItem("outcome"));
        });
    }

    [Fact]
    public async Task With_an_otlp_endpoint_spans_are_exported()
    {
        // A stand-in collector: records what arrives on OTLP/HTTP.
        var received = new ConcurrentQueue<byte[]>();
        var collectorBuilder = WebApplication.CreateBuilder();
        collectorBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/traces", async (HttpContext ctx) =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            received.Enqueue(body.ToArray());
            return Results.Ok();
        });
        await collector.StartAsync();
        string endpoint = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v1/traces";

        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:Tracing:OtlpEndpoint=" + endpoint, "--LowLatency:Tracing:Protocol=http", "--LowLatency:Tracing:ExportDelayMilliseconds=100"]);
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(client);
            using var r = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            // Traced requests give the metrics exemplars that lead to their traces.
            using (var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics"))
            {
                scrape.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
                using var metrics = await client.SendAsync(scrape);
                Assert.Contains("trace_id=", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!Exported(received, "infer ctr-ranker") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            await app.StopAsync();
        }

        // The protobuf carries span names as plain UTF-8.
        Assert.True(Exported(received, "infer ctr-ranker"), $"{received.Count} exports, none with the request span");
        Assert.True(Exported(received, "queue") && Exported(received, "execute"));
    }

    // Here, not with the other /metrics tests: an exporting server (above) listens to ASP.NET Core's
    // activities process-wide while it runs, and this class's tests run one at a time.
    [Fact]
    public async Task Without_tracing_no_metric_observation_carries_an_exemplar_of_a_trace_nobody_exports()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ctr-ranker/infer") { Content = ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack) })
        {
            // A caller's sampled trace context: ASP.NET Core continues it in the request's Activity.
            request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        scrape.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        using var metrics = await client.SendAsync(scrape);
        string text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("lowlatency_engine_request_duration_bucket", text, StringComparison.Ordinal);
        // Exemplars recorded while the exporting test above ran may stay on their buckets; this
        // request's trace must not be among them.
        Assert.DoesNotContain("4bf92f3577b34da6a3ce929d0e0e4736", text, StringComparison.Ordinal);
    }

    // ASP.NET Core opens a logging scope and starts an Activity for every request whenever its
    // Microsoft.AspNetCore.Hosting.Diagnostics logger is enabled at any level, even with nobody
    // tracing: ~45 % of what the server allocated per request (measured: docs/performance.md#host-request-path).
    // The shipped appsettings.json turns that category off; tracing still gets its activities from
    // its own listener (the tests above).
    [Fact]
    public async Task Without_tracing_a_request_opens_no_logging_scope_of_ASP_NET_Core()
    {
        var scopes = new ScopeRecorder();
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, configure: b => b.Logging.AddProvider(scopes));
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        using var response = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var hosting = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics");
        Assert.False(hosting.IsEnabled(LogLevel.Critical));
        Assert.DoesNotContain("Microsoft.AspNetCore.Hosting.Diagnostics", scopes.Categories);
        // The server's own warnings still get through.
        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LowLatency.Host.EngineLoader").IsEnabled(LogLevel.Warning));
    }

    private static bool Exported(ConcurrentQueue<byte[]> received, string name)
    {
        byte[] needle = Encoding.UTF8.GetBytes(name);
        return received.Any(b => b.AsSpan().IndexOf(needle) >= 0);
    }

    /// <summary>Records the categories whose loggers opened a scope on this provider.</summary>
    private sealed class ScopeRecorder : ILoggerProvider
    {
        public ConcurrentBag<string> Categories { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Recorder(ScopeRecorder owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                owner.Categories.Add(category);
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
