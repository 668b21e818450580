using System.Net;
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
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:DrainDelaySeconds=2"]);
        await using var _ = app;
        using (var warm = new HttpClient { BaseAddress = address })
        {
            await ServerFixture.WaitReadyAsync(warm);
        }

        var engine = app.Services.GetRequiredService<InferenceEngine>();
        var stopping = Task.Run(() => app.StopAsync());
        // Shutdown has begun (readiness is gone) and the 2 s drain delay holds the stop.
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
}
