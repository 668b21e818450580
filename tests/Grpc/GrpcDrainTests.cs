using Grpc.Core;
using Inference;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// Shutdown seen from gRPC clients, as from REST ones: during the drain delay new calls are
/// UNAVAILABLE, and an open stream answers the requests it has in flight, then ends UNAVAILABLE.
/// </summary>
public sealed class GrpcDrainTests
{
    [Fact]
    public async Task During_the_drain_new_calls_are_UNAVAILABLE_and_an_open_stream_answers_its_requests_then_ends()
    {
        using var repo = new TempRepository();
        // A one-second window holds the stream's request in flight when shutdown begins.
        repo.AddModel("ctr", """
            {"name": "ctr", "platform": "pytorch_libtorch", "max_batch_size": 8,
             "input": [{"name": "sparse", "data_type": "TYPE_INT64", "dims": [26]}, {"name": "dense", "data_type": "TYPE_FP32", "dims": [13]}],
             "output": [{"name": "probability", "data_type": "TYPE_FP32", "dims": [1]}],
             "dynamic_batching": {"max_queue_delay_microseconds": 1000000}}
            """);
        await using var server = await GrpcReadyServer.StartAsync(repo.Root, ["--LowLatency:DrainDelaySeconds=4"]);
        var client = server.Client;
        var golden = GoldenCase.Load("ctr-ranker", "batch1");

        using var stream = client.ModelStreamInfer();
        await stream.RequestStream.WriteAsync(GrpcWire.Request("ctr", golden.Request with { Id = "in-flight" }, raw: true));
        var engine = server.App.Services.GetRequiredService<InferenceEngine>();
        Assert.True(engine.TryGetModel("ctr", out var served));
        Assert.True(await Poll.UntilAsync(() => served.Latest.QueueDepth == 1), "the stream's request never reached the queue");

        var stopping = Task.Run(() => server.App.StopAsync());
        Assert.True(await Poll.UntilAsync(() => engine.IsStopping), "the engine was never told to stop");

        // A new call, on a new connection: UNAVAILABLE. Made first, while the drain delay has most of
        // its four seconds to run: once they are over the listener is closed, and a slow host spent
        // them on the stream's answer below.
        using var late = GrpcWire.Channel(ServerFixture.GrpcAddressOf(server.App));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await GrpcWire.Client(late).ModelInferAsync(GrpcWire.Request("ctr", golden.Request, raw: true)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("shutting down", e.Status.Detail, StringComparison.Ordinal);
        Assert.False((await GrpcWire.Client(late).ServerReadyAsync(new ServerReadyRequest())).Ready);

        // The request in flight is answered, then the stream ends UNAVAILABLE.
        Assert.True(await stream.ResponseStream.MoveNext());
        Assert.Equal("in-flight", stream.ResponseStream.Current.InferResponse.Id);
        Wire.AssertClose(golden.Expected[0], GrpcWire.Result(stream.ResponseStream.Current.InferResponse).Outputs[0]);
        var ended = await Assert.ThrowsAsync<RpcException>(async () => await stream.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Contains("shutting down", ended.Status.Detail, StringComparison.Ordinal);

        await stopping;
    }
}
