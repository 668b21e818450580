using System.Text.Json.Nodes;
using Grpc.Core;
using Inference;
using LowLatency.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// The statuses REST answers 429 and 503 with, as gRPC's RESOURCE_EXHAUSTED and UNAVAILABLE, on
/// ModelInfer and on a ModelStreamInfer stream (in-band, the stream going on); and a traffic split
/// that a gRPC client's <c>x-routing-key</c> steers as REST's <c>X-Routing-Key</c> does.
/// </summary>
public sealed class GrpcStatusTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task A_rate_limit_is_RESOURCE_EXHAUSTED_naming_the_limit()
    {
        await using var server = await GrpcReadyServer.StartAsync(RepoPaths.Models, ["--LowLatency:RateLimits:PerClient:TokensPerSecond=0.01", "--LowLatency:RateLimits:PerClient:Burst=3"]);
        var client = server.Client;
        var request = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);

        // The burst of 3: two unary calls and one request on a stream.
        for (int i = 0; i < 2; i++)
        {
            Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(await client.ModelInferAsync(request)).Outputs[0]);
        }

        var answers = await StreamAsync(client, [request, request], new Metadata());
        Assert.Equal("", answers[0].ErrorMessage);
        Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(answers[0].InferResponse).Outputs[0]);
        Assert.Contains("rate limit exceeded for client", answers[1].ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("LowLatency:RateLimits:PerClient", answers[1].ErrorMessage, StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(request));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("rate limit exceeded for client", e.Status.Detail, StringComparison.Ordinal);
        // As REST's Retry-After: when the bucket has a token again (0.01 a second: 100 s).
        Assert.True(int.TryParse(e.Trailers.GetValue("retry-after"), out int after) && after is > 0 and <= 100, $"retry-after: {e.Trailers.GetValue("retry-after")}");


        // Health and metadata are not limited.
        Assert.True((await client.ModelReadyAsync(new ModelReadyRequest { Name = "ctr-ranker" })).Ready);
    }

    [Fact]
    public async Task Models_still_loading_are_UNAVAILABLE()
    {
        // Without the loader the engine never becomes ready: exactly the state of a server still loading.
        var (app, _) = await ServerFixture.StartAsync(RepoPaths.Models, configure: b =>
        {
            var loader = b.Services.Single(s => s.ServiceType == typeof(IHostedService) && s.ImplementationType?.Name == "EngineLoader");
            b.Services.Remove(loader);
        });
        await using var __ = app;
        using var channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(app));
        var client = GrpcWire.Client(channel);
        Assert.False((await client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var request = GrpcWire.Request("ctr-ranker", Ctr.Request, raw: true);

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(request));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("not ready", e.Status.Detail, StringComparison.Ordinal);

        var answers = await StreamAsync(client, [request], new Metadata());
        Assert.Contains("not ready", answers[0].ErrorMessage, StringComparison.Ordinal);
        await app.StopAsync();
    }

    [Fact]
    public async Task A_version_whose_breaker_opened_is_UNAVAILABLE_with_the_reason()
    {
        // A latency budget no request can meet, judged after one answer, and a cool-down longer than
        // the test: the only version's breaker opens after its first answers and stays open.
        using var repo = new CtrRepository(versions: 1, edit: c => c["health"] = JsonNode.Parse(
            """{ "max_p99_latency_us": 1, "window_seconds": 60, "min_requests": 1, "cooldown_seconds": 3600, "probe_percent": 10, "probe_requests": 10 }"""));
        await using var server = await GrpcReadyServer.StartAsync(repo.Root);
        var client = server.Client;
        var request = GrpcWire.Request(repo.Name, Ctr.Request, raw: true);

        RpcException? refused = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (refused is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the breaker did not open within 30 s");
            try
            {
                Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(await client.ModelInferAsync(request)).Outputs[0]);
                await Task.Delay(20);
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains($"no healthy version of model '{repo.Name}'", refused.Status.Detail, StringComparison.Ordinal);
        // The breaker is what refused it, as the repository API reports.
        var traffic = JsonNode.Parse(await server.Http.GetStringAsync($"/v2/repository/models/{repo.Name}/traffic"))!;
        Assert.Equal("open", (string)traffic["versions"]![0]!["breaker"]!);

        var answers = await StreamAsync(client, [request], new Metadata());
        Assert.Contains($"no healthy version of model '{repo.Name}'", answers[0].ErrorMessage, StringComparison.Ordinal);
        // A version named in the request is served even while ejected, as on REST: an operator can still reach it.
        var named = GrpcWire.Request(repo.Name, Ctr.Request, raw: true);
        named.ModelVersion = "1";
        Assert.Equal("1", (await client.ModelInferAsync(named)).ModelVersion);
    }

    [Fact]
    public async Task A_routing_key_sticks_to_one_version_and_keys_spread_over_the_split()
    {
        using var repo = new CtrRepository(versions: 2, edit: c => c["traffic"] = JsonNode.Parse("""{ "1": 50, "2": 50 }"""));
        await using var server = await GrpcReadyServer.StartAsync(repo.Root);
        var client = server.Client;
        var request = GrpcWire.Request(repo.Name, Ctr.Request, raw: true);

        var byKey = new Dictionary<string, string>();
        for (int k = 0; k < 32; k++)
        {
            string key = $"user-{k}";
            var versions = new HashSet<string>();
            for (int i = 0; i < 4; i++)
            {
                var answer = await client.ModelInferAsync(request, new Metadata { { "x-routing-key", key } });
                Wire.AssertClose(Ctr.Expected[0], GrpcWire.Result(answer).Outputs[0]);
                versions.Add(answer.ModelVersion);
            }

            Assert.True(versions.Count == 1, $"key {key} reached versions {string.Join(", ", versions)}");
            byKey[key] = versions.Single();
        }

        // 32 keys over a 50/50 split: both versions (all on one side has odds of 2 in 2^32).
        Assert.Equal(["1", "2"], byKey.Values.Distinct().Order());

        // A stream's key is its header's: each of its requests goes where a unary call with that key went.
        foreach (string key in new[] { byKey.First(p => p.Value == "1").Key, byKey.First(p => p.Value == "2").Key })
        {
            var answers = await StreamAsync(client, [.. Enumerable.Repeat(request, 8)], new Metadata { { "x-routing-key", key } });
            Assert.All(answers, a => Assert.Equal(byKey[key], a.InferResponse.ModelVersion));
        }
    }

    /// <summary>Sends <paramref name="requests"/> on one stream and reads its answers (completion order) until it ends OK.</summary>
    private static async Task<List<ModelStreamInferResponse>> StreamAsync(GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest[] requests, Metadata headers)
    {
        using var call = client.ModelStreamInfer(headers);
        foreach (var r in requests)
        {
            await call.RequestStream.WriteAsync(r);
        }

        await call.RequestStream.CompleteAsync();
        var answers = new List<ModelStreamInferResponse>();
        while (await call.ResponseStream.MoveNext())
        {
            answers.Add(call.ResponseStream.Current);
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(requests.Length, answers.Count);
        return answers;
    }
}
