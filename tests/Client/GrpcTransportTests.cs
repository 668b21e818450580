using System.Diagnostics;
using Grpc.Core;
using LowLatency.Client;

namespace LowLatency.Tests.Client;

/// <summary>
/// The client's gRPC transport end to end, against a stand-in service on Kestrel built from the
/// protocol's generated base (<see cref="StubGrpcService"/>): the same calls as over HTTP, the
/// hand-written marshallers on the wire, metadata, deadlines, status mapping and retries.
/// </summary>
public sealed class GrpcTransportTests
{
    private static readonly RetryPolicy Quick = new() { MaxAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) };

    [Theory]
    [InlineData(5)]
    [InlineData(0)]
    [InlineData(300_000)]
    public async Task Tensors_of_every_datatype_make_the_round_trip(int elements)
    {
        await using var stub = await StubGrpcServer.StartAsync();
        using var client = InferenceClient.ForGrpc(stub.Address);
        var samples = TensorSamples.All.Select((t, i) => TensorSamples.Of(t, $"in_{t}", elements, seed: i)).ToArray();

        using var result = await client.InferAsync("echo", [.. samples.Select(s => s.Input)], new InferOptions { RequestId = "r-1" });

        Assert.Equal(InferenceTransport.Grpc, client.Transport);
        Assert.Equal("echo", result.ModelName);
        Assert.Equal("1", result.ModelVersion);
        Assert.Equal("r-1", result.Id);
        Assert.Equal(TimeSpan.FromMicroseconds(20), result.ServerTiming.Compute);
        for (int i = 0; i < samples.Length; i++)
        {
            var output = result.Output("echo_" + samples[i].Input.Name);
            Assert.Equal(samples[i].Input.Datatype, output.Datatype);
            Assert.Equal(TensorSamples.ShapeOf(elements), output.Shape.ToArray());
            Assert.True(samples[i].Bytes.AsSpan().SequenceEqual(output.Bytes));
        }
    }

    [Fact]
    public async Task Options_credentials_and_the_deadline_reach_the_server()
    {
        await using var stub = await StubGrpcServer.StartAsync();
        using var client = new InferenceClient(new InferenceClientOptions { Address = stub.Address, Transport = InferenceTransport.Grpc, ApiKey = "key-1", BearerToken = "token-1" });
        var options = new InferOptions
        {
            ModelVersion = "1",
            RequestId = "r-2",
            Priority = 2,
            Qos = QosClass.Realtime,
            Timeout = TimeSpan.FromSeconds(5),
            RoutingKey = "user-9",
            Outputs = ["echo_x"],
        };

        using (await client.InferAsync("echo", [InferInput.Create("x", new float[4], 1, 4)], options))
        {
        }

        client.SetBearerToken("token-2");
        using (await client.InferAsync("echo", [InferInput.Create("x", new float[4], 1, 4)]))
        {
        }

        var received = stub.Script.Received.ToArray();
        var (request, headers, deadline, _) = received[0];
        Assert.Equal("1", request.ModelVersion);
        Assert.Equal("r-2", request.Id);
        Assert.Equal(2, request.Parameters["priority"].Int64Param);
        Assert.Equal("realtime", request.Parameters["qos"].StringParam);
        Assert.InRange(request.Parameters["timeout"].Int64Param, 4_000_000, 4_500_000);
        Assert.Equal(["echo_x"], request.Outputs.Select(o => o.Name));
        Assert.Equal("user-9", headers.GetValue("x-routing-key"));
        Assert.Equal("key-1", headers.GetValue("x-api-key"));
        Assert.Equal("Bearer token-1", headers.GetValue("authorization"));
        Assert.InRange(deadline, DateTime.UtcNow.AddSeconds(2), DateTime.UtcNow.AddSeconds(6));
        Assert.Equal("Bearer token-2", received[1].Headers.GetValue("authorization"));
        Assert.Null(received[1].Headers.GetValue("x-routing-key"));
        Assert.Equal(DateTime.MaxValue, received[1].Deadline);
        Assert.Empty(received[1].Request.Parameters);
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument, InferenceStatus.InvalidArgument)]
    [InlineData(StatusCode.NotFound, InferenceStatus.NotFound)]
    [InlineData(StatusCode.Internal, InferenceStatus.Internal)]
    [InlineData(StatusCode.PermissionDenied, InferenceStatus.PermissionDenied)]
    [InlineData(StatusCode.Unauthenticated, InferenceStatus.Unauthenticated)]
    [InlineData(StatusCode.DeadlineExceeded, InferenceStatus.DeadlineExceeded)]
    public async Task A_status_that_is_no_refusal_before_running_is_mapped_and_never_retried(StatusCode code, InferenceStatus status)
    {
        await using var stub = await StubGrpcServer.StartAsync(new() { Refuse = _ => (new Status(code, "input 'x': wrong shape"), null) });
        using var client = Grpc(stub, Quick);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)]));

        Assert.Equal(status, e.Status);
        Assert.Equal(code, e.GrpcStatus);
        Assert.Null(e.HttpStatus);
        Assert.Equal("input 'x': wrong shape", e.ServerMessage);
        Assert.False(e.IsSafeToRetry);
        Assert.Equal(1, stub.Script.Calls);
    }

    [Fact]
    public async Task UNAVAILABLE_and_RESOURCE_EXHAUSTED_are_retried_after_the_servers_pushback()
    {
        await using var stub = await StubGrpcServer.StartAsync(new()
        {
            Refuse = n => n switch
            {
                1 => (new Status(StatusCode.Unavailable, "loading"), new Metadata { { "retry-after", "0" } }),
                2 => (new Status(StatusCode.ResourceExhausted, "queue full"), new Metadata { { "grpc-retry-pushback-ms", "300" } }),
                _ => null,
            },
        });
        using var client = Grpc(stub, Quick);
        var watch = Stopwatch.StartNew();

        using var result = await client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)]);

        Assert.Equal(3, stub.Script.Calls);
        Assert.InRange(watch.ElapsedMilliseconds, 300, 5000);
    }

    [Fact]
    public async Task Attempts_are_bounded_and_carry_the_servers_pushback()
    {
        await using var stub = await StubGrpcServer.StartAsync(new() { Refuse = _ => (new Status(StatusCode.ResourceExhausted, "rate limited"), new Metadata { { "retry-after", "0" } }) });
        using var client = Grpc(stub, Quick);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)]));

        Assert.Equal(InferenceStatus.ResourceExhausted, e.Status);
        Assert.Equal(TimeSpan.Zero, e.RetryAfter);
        Assert.True(e.IsSafeToRetry);
        Assert.Equal(4, e.Attempts);
        Assert.Equal(4, stub.Script.Calls);
    }

    [Fact]
    public async Task The_deadline_ends_a_stalled_call_which_is_not_retried()
    {
        await using var stub = await StubGrpcServer.StartAsync();
        using var client = Grpc(stub, Quick);
        // A first call opens the connection, so that the one measured reaches the server within its deadline.
        using (await client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)]))
        {
        }

        stub.Script.Stall = TimeSpan.FromSeconds(5);
        var watch = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)], new InferOptions { Timeout = TimeSpan.FromMilliseconds(300) }));

        Assert.Equal(InferenceStatus.DeadlineExceeded, e.Status);
        Assert.Equal(StatusCode.DeadlineExceeded, e.GrpcStatus);
        Assert.Equal(1, e.Attempts);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 2000);
        // Not retried: besides the first call, the server saw this one at most once. (It does not always
        // reach the handler at all: seen in about 1 of 10 runs on the shared machine, cause not established.)
        await Task.Delay(200);
        Assert.InRange(stub.Script.Calls, 1, 2);
    }

    [Fact]
    public async Task Cancelling_a_call_ends_it_with_OperationCanceledException()
    {
        await using var stub = await StubGrpcServer.StartAsync(new() { Stall = TimeSpan.FromSeconds(5) });
        using var client = Grpc(stub, Quick);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)], null, cancel.Token));
    }

    [Fact]
    public async Task A_refused_connection_is_UNAVAILABLE_and_retried_within_bounds()
    {
        using var client = new InferenceClient(new InferenceClientOptions
        {
            Address = new Uri($"http://127.0.0.1:{StubHttpServer.FreePort()}"),
            Transport = InferenceTransport.Grpc,
            Retry = new RetryPolicy { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(5) },
        });

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)]));

        Assert.Equal(InferenceStatus.Unavailable, e.Status);
        Assert.Equal(StatusCode.Unavailable, e.GrpcStatus);
        Assert.True(e.IsSafeToRetry);
        Assert.Equal(3, e.Attempts);
        Assert.False(await client.IsLiveAsync());
        Assert.False(await client.IsReadyAsync());
    }

    [Fact]
    public async Task Several_channels_spread_calls_over_their_own_connections()
    {
        await using var stub = await StubGrpcServer.StartAsync();
        using var client = new InferenceClient(new InferenceClientOptions { Address = stub.Address, Transport = InferenceTransport.Grpc, GrpcChannelCount = 3 });

        for (int i = 0; i < 6; i++)
        {
            using var result = await client.InferAsync("echo", [InferInput.Create("x", new float[1], 1)]);
        }

        Assert.Equal(3, stub.Script.Received.Select(r => r.Connection).Distinct().Count());
    }

    [Fact]
    public async Task Health_and_metadata_over_gRPC_with_metadata_cached()
    {
        await using var stub = await StubGrpcServer.StartAsync(new() { Ready = false });
        using var client = InferenceClient.ForGrpc(stub.Address);

        Assert.True(await client.IsLiveAsync());
        Assert.False(await client.IsReadyAsync());
        Assert.True(await client.IsModelReadyAsync("echo"));
        Assert.False(await client.IsModelReadyAsync("no-such-model"));
        var server = await client.GetServerMetadataAsync();
        Assert.Equal(("stub", "0.1"), (server.Name, server.Version));
        Assert.Equal(["binary_tensor_data"], server.Extensions);

        var metadata = await client.GetModelMetadataAsync("echo");
        Assert.Same(metadata, await client.GetModelMetadataAsync("echo"));
        Assert.Equal(1, stub.Script.MetadataCalls);
        Assert.Equal(("x", "FP32"), (metadata.Inputs[0].Name, metadata.Inputs[0].Datatype));
        Assert.Equal([-1L, 4L], metadata.Inputs[0].Shape);
        Assert.Equal(InferenceStatus.NotFound, (await Assert.ThrowsAsync<InferenceException>(() => client.GetModelMetadataAsync("no-such-model"))).Status);
    }

    private static InferenceClient Grpc(StubGrpcServer stub, RetryPolicy retry) =>
        new(new InferenceClientOptions { Address = stub.Address, Transport = InferenceTransport.Grpc, Retry = retry });
}
