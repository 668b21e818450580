using System.Diagnostics;
using System.Net;
using LowLatency.Client;

namespace LowLatency.Tests.Client;

/// <summary>
/// The client's retry policy against a scripted stub: refusals made before anything ran (503, 429,
/// a refused connection) are retried, within the attempts and the deadline, after the server's
/// Retry-After; anything that may have run (500, a timeout once sent) is not.
/// </summary>
public sealed class ClientRetryTests
{
    private static readonly InferInput[] Inputs = [InferInput.Create("x", new float[] { 1 }, 1)];

    private static readonly RetryPolicy Quick = new() { MaxAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) };

    [Fact]
    public async Task Refusals_before_running_are_retried_until_one_is_answered()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, n) => n switch
        {
            1 => StubHttpServer.RefuseAsync(ctx, 503, "not ready", retryAfter: "0"),
            2 => StubHttpServer.RefuseAsync(ctx, 429, "queue full", retryAfter: "0"),
            _ => StubHttpServer.AnswerAsync(ctx, "r1"),
        });
        using var client = Client(stub.Address, Quick);

        using var result = await client.InferAsync("stub", Inputs, new InferOptions { RequestId = "r1" });

        Assert.Equal(3, stub.Requests);
        Assert.Equal("r1", result.Id);
        Assert.Equal(1.5f, result.Output("y").As<float>()[0]);
        Assert.Equal(TimeSpan.FromMicroseconds(12), result.ServerTiming.Queue);
        Assert.Equal(TimeSpan.FromMicroseconds(34), result.ServerTiming.Compute);
        Assert.Equal(TimeSpan.FromMicroseconds(2), result.ServerTiming.Overhead);
    }

    [Fact]
    public async Task Retry_After_is_waited_for()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, n) => n == 1 ? StubHttpServer.RefuseAsync(ctx, 429, "rate limited", retryAfter: "1") : StubHttpServer.AnswerAsync(ctx));
        using var client = Client(stub.Address, Quick);
        var watch = Stopwatch.StartNew();

        using var result = await client.InferAsync("stub", Inputs);

        Assert.Equal(2, stub.Requests);
        // The second asked for (a timer may fire a few milliseconds early against the stopwatch); the
        // upper bound only catches a wait of another order (a busy machine stretches it).
        Assert.InRange(watch.ElapsedMilliseconds, 980, 15000);
    }

    [Fact]
    public async Task A_500_is_never_retried()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.RefuseAsync(ctx, 500, "model 'stub' failed: boom"));
        using var client = Client(stub.Address, Quick);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs));

        Assert.Equal(InferenceStatus.Internal, e.Status);
        Assert.Equal(HttpStatusCode.InternalServerError, e.HttpStatus);
        Assert.Equal("model 'stub' failed: boom", e.ServerMessage);
        Assert.False(e.IsSafeToRetry);
        Assert.Equal(1, e.Attempts);
        Assert.Equal(1, stub.Requests);
    }

    [Fact]
    public async Task Attempts_are_bounded_and_the_last_refusal_is_reported()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.RefuseAsync(ctx, 503, "draining", retryAfter: "0"));
        using var client = Client(stub.Address, Quick);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs));

        Assert.Equal(InferenceStatus.Unavailable, e.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.HttpStatus);
        Assert.Equal("draining", e.ServerMessage);
        Assert.Equal(TimeSpan.Zero, e.RetryAfter);
        Assert.True(e.IsSafeToRetry);
        Assert.Equal(4, e.Attempts);
        Assert.Equal(4, stub.Requests);
    }

    [Fact]
    public async Task A_Retry_After_past_the_deadline_is_not_waited_for()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.RefuseAsync(ctx, 429, "queue full", retryAfter: "5"));
        using var client = Client(stub.Address, Quick);
        var watch = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs, new InferOptions { Timeout = TimeSpan.FromSeconds(3) }));

        Assert.Equal(InferenceStatus.ResourceExhausted, e.Status);
        Assert.Equal(TimeSpan.FromSeconds(5), e.RetryAfter);
        Assert.Equal(1, e.Attempts);
        Assert.Equal(1, stub.Requests);
        Assert.InRange(watch.ElapsedMilliseconds, 0, 2500);
    }

    [Fact]
    public async Task A_Retry_After_over_the_policys_bound_is_not_waited_for()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.RefuseAsync(ctx, 503, "loading", retryAfter: "30"));
        using var client = Client(stub.Address, new RetryPolicy { MaxRetryAfter = TimeSpan.FromSeconds(2) });

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs));

        Assert.Equal(TimeSpan.FromSeconds(30), e.RetryAfter);
        Assert.Equal(1, stub.Requests);
    }

    [Fact]
    public async Task A_timeout_after_the_request_was_sent_is_never_retried()
    {
        await using var stub = await StubHttpServer.StartAsync(async (ctx, n) =>
        {
            if (n == 1)
            {
                await StubHttpServer.AnswerAsync(ctx);
                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(3), ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var client = Client(stub.Address, Quick);
        // A first call opens the connection, so that the one measured reaches the stub within its deadline.
        using (await client.InferAsync("stub", Inputs))
        {
        }

        var watch = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs, new InferOptions { Timeout = TimeSpan.FromMilliseconds(300) }));

        Assert.Equal(InferenceStatus.DeadlineExceeded, e.Status);
        Assert.Null(e.HttpStatus);
        Assert.False(e.IsSafeToRetry);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 1500);
        await Task.Delay(200);
        Assert.Equal(2, stub.Requests);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_within_bounds()
    {
        using var client = Client(new Uri($"http://127.0.0.1:{StubHttpServer.FreePort()}"), new RetryPolicy { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(5) });

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs));

        Assert.Equal(InferenceStatus.Unavailable, e.Status);
        Assert.Null(e.HttpStatus);
        Assert.True(e.IsSafeToRetry);
        Assert.Equal(3, e.Attempts);
        Assert.IsType<HttpRequestException>(e.InnerException);
    }

    [Fact]
    public async Task A_server_that_starts_listening_meanwhile_is_reached_by_a_later_attempt()
    {
        int port = StubHttpServer.FreePort();
        using var client = Client(new Uri($"http://127.0.0.1:{port}"), new RetryPolicy { MaxAttempts = 30, InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(200) });
        var call = client.InferAsync("stub", Inputs);
        await Task.Delay(300);
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.AnswerAsync(ctx), port);

        using var result = await call;

        Assert.Equal(1.5f, result.Output("y").As<float>()[0]);
    }

    [Fact]
    public async Task A_cancelled_token_or_a_passed_deadline_sends_nothing()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.AnswerAsync(ctx));
        using var client = Client(stub.Address, Quick);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.InferAsync("stub", Inputs, null, new CancellationToken(canceled: true)));
        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("stub", Inputs, new InferOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(-1) }));

        Assert.Equal(InferenceStatus.DeadlineExceeded, e.Status);
        Assert.Equal(0, stub.Requests);
    }

    [Fact]
    public async Task Credentials_and_the_routing_key_travel_as_headers_and_the_token_can_be_replaced()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) => StubHttpServer.AnswerAsync(ctx));
        using var client = new InferenceClient(new InferenceClientOptions { Address = stub.Address, ApiKey = "key-1", BearerToken = "token-1" });

        using (await client.InferAsync("stub", Inputs, new InferOptions { RoutingKey = "user-7" }))
        {
        }

        client.SetBearerToken("token-2");
        using (await client.InferAsync("stub", Inputs))
        {
        }

        var received = stub.Received.ToArray();
        Assert.Equal("key-1", received[0].Headers["X-Api-Key"]);
        Assert.Equal("Bearer token-1", received[0].Headers.Authorization);
        Assert.Equal("user-7", received[0].Headers["X-Routing-Key"]);
        Assert.Equal("application/msgpack", received[0].Headers.ContentType);
        Assert.Equal("Bearer token-2", received[1].Headers.Authorization);
        Assert.False(received[1].Headers.ContainsKey("X-Routing-Key"));
    }

    private static InferenceClient Client(Uri address, RetryPolicy retry) => new(new InferenceClientOptions { Address = address, Retry = retry });
}
