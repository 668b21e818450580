using System.Net;
using System.Net.Sockets;
using LowLatency.Engine.Serving;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.EndToEnd;

/// <summary>The drain delay: after SIGTERM the server keeps accepting, and refusing with a retryable 503, for a while.</summary>
public sealed class DrainDelayTests
{
    [Fact]
    public async Task During_the_drain_delay_new_connections_still_get_a_503_naming_the_shutdown()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:DrainDelaySeconds=4"]);
        await using var _ = app;
        using (var warm = new HttpClient { BaseAddress = address })
        {
            await ServerFixture.WaitReadyAsync(warm);
        }

        var engine = app.Services.GetRequiredService<InferenceEngine>();
        var stopping = Task.Run(() => app.StopAsync());
        // Shutdown has begun (readiness is gone) and the 4 s drain delay holds the stop.
        Assert.True(await Poll.UntilAsync(() => engine.IsStopping), "the engine was never told to stop");
        Assert.False(stopping.IsCompleted);

        // A fresh connection, as a load balancer that has not yet seen the instance unready would open.
        using var late = new HttpClient { BaseAddress = address };
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var response = await late.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("shutting down", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        using var ready = await late.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        await stopping;
    }

    [Fact]
    public async Task During_the_drain_delay_HTTP2_answers_say_when_to_retry_and_their_connection_gets_GOAWAY()
    {
        // HTTP/2 without TLS (prior knowledge), as behind a proxy that speaks h2c.
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:DrainDelaySeconds=4", "--Kestrel:EndpointDefaults:Protocols=Http2"]);
        await using var _ = app;
        int connects = 0;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancel) =>
            {
                Interlocked.Increment(ref connects);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancel);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = address, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        await ServerFixture.WaitReadyAsync(client);
        Assert.Equal(1, connects);

        var engine = app.Services.GetRequiredService<InferenceEngine>();
        var stopping = Task.Run(() => app.StopAsync());
        Assert.True(await Poll.UntilAsync(() => engine.IsStopping), "the engine was never told to stop");

        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using (var refused = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack)))
        {
            Assert.Equal(HttpVersion.Version20, refused.Version);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter is not null, "the 503 has no Retry-After");
        }

        // The answer came with GOAWAY: the next request cannot use that connection and opens another.
        using (var ready = await client.GetAsync("/v2/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.True(ready.Headers.RetryAfter is not null, "the readiness 503 has no Retry-After");
        }

        Assert.True(connects == 2, $"{connects} connections: the first was not closed by GOAWAY after its 503");
        await stopping;
    }
}
