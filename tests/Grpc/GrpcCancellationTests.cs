using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using LowLatency.Engine.Serving;
using LowLatency.Host.Memory;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// A gRPC call its client cancels while its request waits in the queue takes the request out at
/// once: it never runs, and the call is counted as CANCELLED under its model. On a stream, the
/// stream's cancellation does the same for every request it has queued.
/// </summary>
public sealed class GrpcCancellationTests
{
    private static readonly GoldenCase One = GoldenCase.Load("ctr-ranker", "batch1");

    /// <summary>ctr-ranker with a one-minute batching window: a lone request waits there.</summary>
    private static string Config(string name) => $$"""
        {"name": "{{name}}", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "sparse", "data_type": "TYPE_INT64", "dims": [26]}, {"name": "dense", "data_type": "TYPE_FP32", "dims": [13]}],
         "output": [{"name": "probability", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {"max_queue_delay_microseconds": 0},
         "qos": {"throughput": {"max_queue_delay_microseconds": 60000000, "deadline_microseconds": 0} }
        }
        """;

    private static ModelInferRequest Throughput(string name)
    {
        var request = GrpcWire.Request(name, One.Request, raw: true);
        request.Parameters["qos"] = new InferParameter { StringParam = "throughput" };
        return request;
    }

    [Fact]
    public async Task A_cancelled_call_leaves_the_queue_at_once_never_runs_and_is_counted_CANCELLED()
    {
        await using var server = await HeldModelServer.StartAsync();
        var (name, app, http, model, client) = server;

        using var leave = new CancellationTokenSource();
        var call = client.ModelInferAsync(Throughput(name), cancellationToken: leave.Token);
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 1), "the request never reached the queue");
        leave.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(async () => await call);
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);

        // Out of the queue with most of its one-minute window to go, and never run.
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 0 && model.InFlight == 0, TimeSpan.FromSeconds(30)), "the request stayed in the queue");
        string metrics = await ScrapeUntilAsync(http, m => PrometheusText.Value(m, "lowlatency_engine_requests", name, "outcome=\"cancelled\"") >= 1);
        Assert.Equal(1, PrometheusText.Value(metrics, "lowlatency_engine_requests", name, "outcome=\"cancelled\""));
        Assert.Equal(0, PrometheusText.Value(metrics, "lowlatency_engine_requests", name, "outcome=\"ok\""));
        metrics = await ScrapeUntilAsync(http, m => PrometheusText.Value(m, "lowlatency_host_responses", name, "code=\"CANCELLED\"", version: false) >= 1);
        Assert.Equal(1, PrometheusText.Value(metrics, "lowlatency_host_responses", name, "code=\"CANCELLED\"", version: false));
        // The call gave back its place in the body budget, though its stream was reset under it.
        Assert.Equal(0, app.Services.GetRequiredService<BodyBudget>().HeldBytes);

        // The model serves on: a realtime request (no window) is answered.
        var answer = await client.ModelInferAsync(GrpcWire.Request(name, One.Request, raw: true), deadline: DateTime.UtcNow.AddSeconds(30));
        Wire.AssertClose(One.Expected[0], GrpcWire.Result(answer).Outputs[0]);
    }

    [Fact]
    public async Task A_cancelled_stream_takes_its_queued_requests_out_and_none_runs()
    {
        await using var server = await HeldModelServer.StartAsync();
        var (name, _, http, model, client) = server;

        using var leave = new CancellationTokenSource();
        using var stream = client.ModelStreamInfer(cancellationToken: leave.Token);
        for (int i = 0; i < 3; i++)
        {
            var request = Throughput(name);
            request.Id = "s" + i;
            await stream.RequestStream.WriteAsync(request);
        }

        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 3), "the stream's requests never reached the queue");
        leave.Cancel();
        Assert.True(await Poll.UntilAsync(() => model.QueueDepth == 0 && model.InFlight == 0, TimeSpan.FromSeconds(30)), "the stream's requests stayed in the queue");
        string metrics = await ScrapeUntilAsync(http, m => PrometheusText.Value(m, "lowlatency_engine_requests", name, "outcome=\"cancelled\"") >= 3);
        Assert.Equal(3, PrometheusText.Value(metrics, "lowlatency_engine_requests", name, "outcome=\"cancelled\""));
        Assert.Equal(0, PrometheusText.Value(metrics, "lowlatency_engine_requests", name, "outcome=\"ok\""));
    }

    /// <summary>Scrapes until <paramref name="condition"/> holds (a response is counted as its handler ends), at most <see cref="Poll.DefaultTimeout"/>.</summary>
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

    /// <summary>A server of its own holding the model under a name of its own (the Prometheus registry is process-wide), and a gRPC client of it.</summary>
    private sealed class HeldModelServer : IAsyncDisposable
    {
        private readonly string _name;
        private readonly TempRepository _repo;
        private readonly WebApplication _app;
        private readonly HttpClient _http;
        private readonly ModelVersion _model;
        private readonly GrpcChannel _channel;

        private HeldModelServer(string name, TempRepository repo, WebApplication app, HttpClient http, ModelVersion model)
        {
            (_name, _repo, _app, _http, _model) = (name, repo, app, http, model);
            _channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(app));
        }

        public static async Task<HeldModelServer> StartAsync()
        {
            string name = "ctr-grpc-cancel-" + Guid.NewGuid().ToString("N")[..8];
            var repo = new TempRepository();
            repo.AddModel(name, Config(name));
            var (app, address) = await ServerFixture.StartAsync(repo.Root);
            var http = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(http);
            Assert.True(app.Services.GetRequiredService<InferenceEngine>().TryGetModel(name, out var served));
            return new HeldModelServer(name, repo, app, http, served.Latest);
        }

        public void Deconstruct(out string name, out WebApplication app, out HttpClient http, out ModelVersion model, out GRPCInferenceService.GRPCInferenceServiceClient client) =>
            (name, app, http, model, client) = (_name, _app, _http, _model, GrpcWire.Client(_channel));

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            _http.Dispose();
            await _app.DisposeAsync();
            _repo.Dispose();
        }
    }
}
