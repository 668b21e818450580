using Grpc.Core;
using Inference;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.Grpc;

/// <summary>Scheduling seen from a gRPC client: its deadline, a full queue, the request parameters, Server-Timing.</summary>
public sealed class GrpcSchedulingTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    private static string CtrConfig(string batching) => $$"""
        {"name": "ctr", "platform": "pytorch_libtorch", "max_batch_size": 8,
         "input": [{"name": "sparse", "data_type": "TYPE_INT64", "dims": [26]}, {"name": "dense", "data_type": "TYPE_FP32", "dims": [13]}],
         "output": [{"name": "probability", "data_type": "TYPE_FP32", "dims": [1]}],
         "dynamic_batching": {{batching}}}
        """;

    [Fact]
    public async Task The_clients_deadline_passing_in_the_queue_is_DEADLINE_EXCEEDED_from_the_engine()
    {
        using var repo = new TempRepository();
        // A three-second window holds the request in the queue; no queue policy lets a timeout be overridden.
        repo.AddModel("ctr", CtrConfig("""{"max_queue_delay_microseconds": 3000000}"""));
        await using var server = await GrpcReadyServer.StartAsync(repo.Root);
        var client = server.Client;

        // The client's deadline is 300 ms; the engine's own answer (not the client's) comes at that time.
        var started = DateTime.UtcNow;
        var call = client.ModelInferAsync(GrpcWire.Request("ctr", Ctr.Request, raw: true), deadline: DateTime.UtcNow.AddMilliseconds(300));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await call);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.True(server.App.Services.GetRequiredService<InferenceEngine>().TryGetModel("ctr", out var served));
        // The engine took it out of the queue at its deadline, long before the window would have sent it.
        Assert.True(await Poll.UntilAsync(() => served.Latest.QueueDepth == 0, TimeSpan.FromSeconds(1.5)), "the request stayed queued past its deadline");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2.5), "the request waited for its batching window");

        // A generous deadline: answered.
        var response = await client.ModelInferAsync(GrpcWire.Request("ctr", Ctr.Request, raw: true), deadline: DateTime.UtcNow.AddSeconds(30));
        Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(response).Outputs[0]);
    }

    [Fact]
    public async Task A_full_queue_is_RESOURCE_EXHAUSTED_and_parameters_are_the_REST_ones()
    {
        using var repo = new TempRepository();
        repo.AddModel("ctr", CtrConfig("""{"max_queue_delay_microseconds": 1000000, "default_queue_policy": {"max_queue_size": 1}}"""));
        await using var server = await GrpcReadyServer.StartAsync(repo.Root);
        var client = server.Client;

        var first = client.ModelInferAsync(GrpcWire.Request("ctr", Ctr.Request, raw: true));
        Assert.True(server.App.Services.GetRequiredService<InferenceEngine>().TryGetModel("ctr", out var served));
        Assert.True(await Poll.UntilAsync(() => served.Latest.QueueDepth == 1), "the first request never reached the queue");
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(GrpcWire.Request("ctr", Ctr.Request, raw: true)));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("max_queue_size", e.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("1", e.Trailers.GetValue("retry-after"));

        Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(await first).Outputs[0]);

        // The realtime class has no batching window: answered at once, with its Server-Timing.
        var request = GrpcWire.Request("ctr", Ctr.Request, raw: false);
        request.Parameters["qos"] = new InferParameter { StringParam = "realtime" };
        request.Parameters["priority"] = new InferParameter { Uint64Param = 1 };
        var call = client.ModelInferAsync(request, new Metadata { { "x-routing-key", "user-42" } });
        Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(await call).Outputs[0]);
        // Told by the engine's own queue time (milliseconds), not a clock around the call: a slow host's
        // first typed call would spend its time outside the queue.
        string timing = call.GetTrailers().GetValue("server-timing") ?? "";
        Assert.StartsWith("queue;dur=", timing, StringComparison.Ordinal);
        double queuedMs = double.Parse(timing["queue;dur=".Length..timing.IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(queuedMs < 500, $"the realtime request waited for the window ({timing})");
    }

    [Fact]
    public async Task Compressed_messages_are_UNIMPLEMENTED_naming_identity()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models);
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(http);
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(ServerFixture.GrpcAddressOf(app));
        var client = GrpcWire.Client(channel);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true), new Metadata { { "grpc-internal-encoding-request", "gzip" } }));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Contains("identity", e.Status.Detail, StringComparison.Ordinal);
    }
}
