using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// A client that goes away while its request waits in the queue cancels it: the request leaves the
/// queue at once and never runs, the response is counted as 499 under its model and the engine's
/// outcome as cancelled, the statistics count it as failed, and nothing is logged above Debug.
/// </summary>
public sealed class CancellationEndToEndTests
{
    private static readonly GoldenCase One = GoldenCase.Load("ctr-ranker", "batch1");
    private static readonly GoldenCase Eight = GoldenCase.Load("ctr-ranker", "batch8");

    /// <summary>ctr-ranker with batches of 8 at most, and a one-minute window for the throughput class (warm-up, of no class, goes at once).</summary>
    private static string Config(string name) => $$"""
        {"name": "{{name}}", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "sparse", "data_type": "TYPE_INT64", "dims": [26]}, {"name": "dense", "data_type": "TYPE_FP32", "dims": [13]}],
         "output": [{"name": "probability", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {"max_queue_delay_microseconds": 0},
         "qos": {"throughput": {"max_queue_delay_microseconds": 60000000, "deadline_microseconds": 0} }
        }
        """;

    private static byte[] Throughput(GoldenCase golden) =>
        Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(golden.Request.ToJson()).Replace("{\"id\"", "{\"parameters\": {\"qos\": \"throughput\"}, \"id\"", StringComparison.Ordinal));

    [Fact]
    public async Task A_client_gone_while_its_request_waits_cancels_it_counted_as_499_and_it_never_runs()
    {
        // A name of its own: the statistics and the Prometheus registry are process-wide.
        string name = "ctr-cancel-" + Guid.NewGuid().ToString("N")[..8];
        using var repo = new TempRepository();
        repo.AddModel(name, Config(name));
        var log = new CapturingProvider();
        var (app, address) = await ServerFixture.StartAsync(repo.Root, ["--Logging:LogLevel:LowLatency.Host.ClientFaults=Debug"], b => b.Logging.AddProvider(log));
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(client);
        Assert.True(app.Services.GetRequiredService<InferenceEngine>().TryGetModel(name, out var served));
        var model = served.Latest;

        using var leave = new CancellationTokenSource();
        var sending = client.PostAsync($"/v2/models/{name}/infer", ServerFixture.Body(Throughput(One), Wire.Json), leave.Token);
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 1), "the request never reached the queue");

        // The client gives up: HttpClient drops the connection, and Kestrel aborts the request.
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);

        // Out of the queue and answered with most of its one-minute window still to go.
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 0 && model.InFlight == 0, TimeSpan.FromSeconds(30)), "the request stayed in the queue");
        string metrics = await ScrapeUntilAsync(client, m => Count(m, "lowlatency_host_responses", name, "code=\"499\"", version: false) >= 1);
        Assert.Equal(1, Count(metrics, "lowlatency_host_responses", name, "code=\"499\"", version: false));
        Assert.Equal(0, Count(metrics, "lowlatency_host_responses", name, "code=\"200\"", version: false));
        Assert.Equal(1, Count(metrics, "lowlatency_engine_requests", name, "outcome=\"cancelled\""));

        // A full batch of the same class goes at once, and runs its own 8 rows alone: the cancelled
        // row, had it stayed queued ahead of them, would have run first, alone.
        using (var full = await client.PostAsync($"/v2/models/{name}/infer", ServerFixture.Body(Throughput(Eight), Wire.Json)))
        {
            Assert.Equal(HttpStatusCode.OK, full.StatusCode);
            Wire.AssertClose(Eight.Expected[0], Wire.ParseJson(await full.Content.ReadAsByteArrayAsync()).Outputs[0]);
        }

        using (var stats = JsonDocument.Parse(await client.GetByteArrayAsync($"/v2/models/{name}/stats")))
        {
            var s = Assert.Single(stats.RootElement.GetProperty("model_stats").EnumerateArray());
            Assert.Equal(8, s.GetProperty("inference_count").GetInt64());
            Assert.Equal(1, s.GetProperty("execution_count").GetInt64());
            Assert.Equal(1, s.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64());
            Assert.Equal(1, s.GetProperty("inference_stats").GetProperty("fail").GetProperty("count").GetInt64());
        }

        // Any client can do this: at most the client-fault line at Debug (one a second, process-wide,
        // so it may have been held back), never a warning or an error.
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Warning && e.Category.StartsWith("LowLatency", StringComparison.Ordinal));
        Assert.All(log.Entries.Where(e => e.Message.Contains("cancelled by the client", StringComparison.Ordinal)), e => Assert.Equal(LogLevel.Debug, e.Level));
    }

    private static long Count(string metrics, string series, string model, string label, bool version = true) =>
        (long)PrometheusText.Value(metrics, series, model, label, version);

    /// <summary>Scrapes until <paramref name="condition"/> holds (the response is counted as its handler ends), at most <see cref="Poll.DefaultTimeout"/>.</summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + Poll.DefaultTimeout;
        string text = await client.GetStringAsync("/metrics");
        while (!condition(text) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
            text = await client.GetStringAsync("/metrics");
        }

        return text;
    }

    private sealed record Entry(string Category, LogLevel Level, string Message);

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, logLevel, formatter(state, exception)));
        }
    }
}
