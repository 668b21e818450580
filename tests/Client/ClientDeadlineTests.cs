using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LowLatency.Client;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>Deadlines and cancellation against the real server, with requests held in its queue.</summary>
public sealed class ClientDeadlineTests(QueueHoldingServer server) : IClassFixture<QueueHoldingServer>
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Theory]
    [InlineData(HttpBodyEncoding.MessagePack)]
    [InlineData(HttpBodyEncoding.JsonBinary)]
    public async Task A_deadline_that_expires_in_the_queue_comes_back_as_the_servers_504(HttpBodyEncoding encoding)
    {
        using var client = new InferenceClient(new InferenceClientOptions { Address = server.Address, HttpEncoding = encoding });
        var options = new InferOptions { Timeout = TimeSpan.FromMilliseconds(500) };
        // Warm paths on both sides first: a first call pays for the connection and the JIT (over
        // 100 ms here) out of its own deadline, before the server starts counting.
        using (await client.InferAsync("plain", ClientTensors.Inputs(Ctr.Request)))
        {
        }

        // The server is told the time left less the margin for the way back (50 ms of 500): it
        // refuses the request in its queue before the client's own timer would cancel the call.
        // A stall longer than the margin on a loaded machine lets the client's timer win instead,
        // which is as correct; one of three calls must show the server's refusal.
        InferenceException? refused = null;
        for (int attempt = 0; attempt < 3 && refused is null; attempt++)
        {
            Assert.True(await client.IsReadyAsync());
            var watch = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("reject-on-timeout", ClientTensors.Inputs(Ctr.Request), options));
            Assert.Equal(InferenceStatus.DeadlineExceeded, e.Status);
            Assert.False(e.IsSafeToRetry);
            Assert.InRange(watch.ElapsedMilliseconds, 400, 2000);
            refused = e.HttpStatus is null ? null : e;
        }

        Assert.NotNull(refused);
        Assert.Equal(HttpStatusCode.GatewayTimeout, refused.HttpStatus);
        Assert.Contains("timed out in the queue", refused.ServerMessage, StringComparison.Ordinal);

        // It never reached the model.
        using var stats = JsonDocument.Parse(await server.Http.GetByteArrayAsync("/v2/models/reject-on-timeout/stats"));
        Assert.Equal(0, Assert.Single(stats.RootElement.GetProperty("model_stats").EnumerateArray()).GetProperty("execution_count").GetInt64());
    }

    [Fact]
    public async Task Where_the_server_holds_a_request_past_its_deadline_the_clients_timer_ends_the_call()
    {
        // This model's queue policy ignores a request's timeout: only the client's timer is left.
        using var client = new InferenceClient(server.Address);
        var watch = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("held-deadline", ClientTensors.Inputs(Ctr.Request), new InferOptions { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(300) }));

        Assert.Equal(InferenceStatus.DeadlineExceeded, e.Status);
        Assert.Null(e.HttpStatus);
        Assert.Equal(1, e.Attempts);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 2000);
    }

    [Fact]
    public async Task Cancelling_a_call_ends_it_at_once_with_OperationCanceledException()
    {
        using var client = new InferenceClient(server.Address);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.InferAsync("held-cancel", ClientTensors.Inputs(Ctr.Request), new InferOptions { Timeout = TimeSpan.FromSeconds(30) }, cancel.Token));

        Assert.InRange(watch.ElapsedMilliseconds, 150, 2000);
        // The server saw the connection's request end and took it out of the queue, long before the
        // 5 s window would have run it.
        Assert.True(await Poll.UntilAsync(() => server.QueueDepth("held-cancel") == 0, TimeSpan.FromSeconds(2)), "the cancelled request stayed in the server's queue");
    }

    [Fact]
    public async Task Over_gRPC_cancelling_a_call_ends_it_and_takes_its_request_out_of_the_servers_queue()
    {
        using var client = InferenceClient.ForGrpc(server.GrpcAddress);
        using var cancel = new CancellationTokenSource();
        var call = client.InferAsync("held-cancel", ClientTensors.Inputs(Ctr.Request), new InferOptions { Timeout = TimeSpan.FromSeconds(30) }, cancel.Token);
        Assert.True(await Poll.UntilAsync(() => server.QueueDepth("held-cancel") == 1, TimeSpan.FromSeconds(10)), "the request never reached the queue");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(await Poll.UntilAsync(() => server.QueueDepth("held-cancel") == 0, TimeSpan.FromSeconds(2)), "the cancelled request stayed in the server's queue");
    }

    [Fact]
    public async Task Over_gRPC_a_deadline_that_expires_in_the_queue_is_DEADLINE_EXCEEDED_and_never_runs()
    {
        using var client = InferenceClient.ForGrpc(server.GrpcAddress);
        var watch = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("reject-on-timeout", ClientTensors.Inputs(Ctr.Request), new InferOptions { Timeout = TimeSpan.FromMilliseconds(500) }));

        Assert.Equal(InferenceStatus.DeadlineExceeded, e.Status);
        Assert.Equal(global::Grpc.Core.StatusCode.DeadlineExceeded, e.GrpcStatus);
        Assert.InRange(watch.ElapsedMilliseconds, 400, 2000);
        // Out of the server's queue at the deadline (the engine's refusal, or the call's end), long
        // before the 5 s window would have run it: it never runs.
        Assert.True(await Poll.UntilAsync(() => server.QueueDepth("reject-on-timeout") == 0, TimeSpan.FromSeconds(2)), "the expired request stayed in the server's queue");
        using var stats = JsonDocument.Parse(await server.Http.GetByteArrayAsync("/v2/models/reject-on-timeout/stats"));

        Assert.Equal(0, Assert.Single(stats.RootElement.GetProperty("model_stats").EnumerateArray()).GetProperty("execution_count").GetInt64());
    }
}
