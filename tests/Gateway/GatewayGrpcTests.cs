using Grpc.Core;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Gateway;

/// <summary>gRPC ModelInfer routes an alias as REST does: preference from metadata, the backend in the response metadata.</summary>
public sealed class GatewayGrpcTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    [Fact]
    public async Task ModelInfer_on_an_alias_is_answered_by_the_preferred_backend_which_the_metadata_names()
    {
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), """
            { "aliases": { "rank": { "backends": [ { "name": "a", "model": "ctr-a", "weight": 1 }, { "name": "b", "model": "ctr-b", "weight": 1 } ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(http);
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(ServerFixture.GrpcAddressOf(app));
        var client = GrpcWire.Client(channel);

        for (int i = 0; i < 4; i++)
        {
            using var call = client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true), new Metadata { { "x-model-preference", "b" } });
            var response = await call.ResponseAsync;
            var headers = await call.ResponseHeadersAsync;
            Assert.Equal("ctr-b", response.ModelName);
            Assert.Equal("b", headers.GetValue("x-lowlatency-backend"));
        }

        // Without a preference both backends answer (1:1).
        var seen = new HashSet<string>();
        for (int i = 0; i < 4; i++)
        {
            var response = await client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true));
            seen.Add(response.ModelName);
        }

        Assert.Equal(["ctr-a", "ctr-b"], seen.Order());
    }

    [Fact]
    public async Task ModelInfer_on_an_alias_passes_over_its_remote_backends()
    {
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        // The remote is preferred and weighs 1000 to 1: gRPC does not forward, so the local backend answers.
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), """
            { "aliases": { "rank": { "backends": [ { "name": "far", "url": "http://127.0.0.1:9", "model": "ctr-ranker", "weight": 1000 }, { "name": "a", "model": "ctr-a", "weight": 1 } ] },
                           "remote-only": { "backends": [ { "name": "far", "url": "http://127.0.0.1:9", "model": "ctr-ranker", "weight": 1 } ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(http);
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(ServerFixture.GrpcAddressOf(app));
        var client = GrpcWire.Client(channel);

        for (int i = 0; i < 4; i++)
        {
            using var call = client.ModelInferAsync(GrpcWire.Request("rank", Ctr.Request, raw: true), new Metadata { { "x-model-preference", "far" } });
            var response = await call.ResponseAsync;
            Assert.Equal("ctr-a", response.ModelName);
            Assert.Equal("a", (await call.ResponseHeadersAsync).GetValue("x-lowlatency-backend"));
        }

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(GrpcWire.Request("remote-only", Ctr.Request, raw: true)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }
}
