using System.Net;
using Grpc.Core;
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
        var (app, client, budget, held) = await HeldAsync();
        await using var _ = app;
        using var __ = client;
        using var ___ = held;

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

    [Fact]
    public async Task A_stream_message_past_the_budget_is_answered_in_band_and_every_message_gives_its_place_back()
    {
        var (app, client, budget, held) = await HeldAsync();
        await using var _ = app;
        using var __ = client;
        using var ___ = held;

        using var channel = Grpc.GrpcWire.Channel(ServerFixture.GrpcAddressOf(app));
        using var call = Grpc.GrpcWire.Client(channel).ModelStreamInfer();
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        var large = Grpc.GrpcWire.Request("ctr-ranker", golden.Request with { Id = "large" }, raw: true);
        large.Parameters["padding"] = new Inference.InferParameter { StringParam = new string('p', 100_000) };
        await call.RequestStream.WriteAsync(large);
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Contains("LowLatency:MaxBufferedRequestBodyBytes", call.ResponseStream.Current.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1 << 20, budget.HeldBytes);

        // Once the held body ends, the same message is served on the same stream, and nothing stays held.
        await held.SendAsync("0\r\n\r\n"u8.ToArray());
        Assert.Equal(400, (await held.ReadAnswerAsync(TimeSpan.FromSeconds(30))).Status);
        Assert.True(await Poll.UntilAsync(() => budget.HeldBytes == 0, TimeSpan.FromSeconds(30)), $"{budget.HeldBytes} bytes still held");
        await call.RequestStream.WriteAsync(large);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("", call.ResponseStream.Current.ErrorMessage);
        Wire.AssertClose(golden.Expected[0], Grpc.GrpcWire.Result(call.ResponseStream.Current.InferResponse).Outputs[0]);
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.True(await Poll.UntilAsync(() => budget.HeldBytes == 0 && budget.InProgress == 0, TimeSpan.FromSeconds(30)), $"{budget.HeldBytes} bytes, {budget.InProgress} requests still held after the stream ended");
    }


    /// <summary>
    /// A server taking one maximum-size body (1 MiB) at a time, and a chunked body begun on it and
    /// not finished: admitted, it reserves the whole budget until the test ends it.
    /// </summary>
    private static async Task<(Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Client, BodyBudget Budget, RawHttpConnection Held)> HeldAsync()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--LowLatency:MaxRequestBodyBytes=1048576", "--LowLatency:MaxBufferedRequestBodyBytes=1048576"]);
        var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        var budget = app.Services.GetRequiredService<BodyBudget>();
        var held = await RawHttpConnection.OpenAsync(port);
        await held.SendAsync("POST /v2/models/ctr-ranker/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nxxxx\r\n"u8.ToArray());
        Assert.True(await Poll.UntilAsync(() => budget.HeldBytes == 1 << 20, TimeSpan.FromSeconds(30)), $"the chunked body holds {budget.HeldBytes} bytes of the budget, not the limit");
        return (app, client, budget, held);
    }
}
