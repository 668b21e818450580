using System.Net;
using LowLatency.Host.Memory;
using LowLatency.Tests.Hostile;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.EndToEnd;

/// <summary>The body budget through HTTP: a body of unknown length holds the limit's worth, small bodies always pass, and an ended request gives its place back.</summary>
public sealed class BodyBudgetEndToEndTests
{
    [Fact]
    public async Task A_chunked_body_in_flight_holds_the_limit_until_it_ends_and_small_bodies_still_pass()
    {
        // One maximum-size body (1 MiB) at a time.
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:MaxRequestBodyBytes=1048576", "--LowLatency:MaxBufferedRequestBodyBytes=1048576"]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        // A chunked body begun and not finished: admitted, it reserves the whole limit.
        var budget = app.Services.GetRequiredService<BodyBudget>();
        using var held = await RawHttpConnection.OpenAsync(port);
        await held.SendAsync("POST /v2/models/ctr-ranker/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nxxxx\r\n"u8.ToArray());
        Assert.True(await Poll.UntilAsync(() => budget.HeldBytes == 1 << 20, TimeSpan.FromSeconds(30)), $"the chunked body holds {budget.HeldBytes} bytes of the budget, not the limit");

        var larger = new byte[100_000];
        using (var refused = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(larger, Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            Assert.Contains("LowLatency:MaxBufferedRequestBodyBytes", Wire.ErrorOf(await refused.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }

        // An ordinary request (under 64 KiB) is served all the while.
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using (var ok = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // The chunked body ends (malformed: 400) and gives its place back.
        await held.SendAsync("0\r\n\r\n"u8.ToArray());
        Assert.Equal(400, (await held.ReadAnswerAsync(TimeSpan.FromSeconds(30))).Status);
        Assert.True(await Poll.UntilAsync(() => budget.HeldBytes == 0, TimeSpan.FromSeconds(30)), $"{budget.HeldBytes} bytes still held once every request had ended");
        using var admitted = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(larger, Wire.MsgPack));
        Assert.Equal(HttpStatusCode.BadRequest, admitted.StatusCode);
    }
}
