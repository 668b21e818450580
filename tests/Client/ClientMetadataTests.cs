using LowLatency.Client;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace LowLatency.Tests.Client;

/// <summary>Health, server and model metadata through the client; model metadata fetched once per model and version.</summary>
[Collection(ServerCollection.Name)]
public sealed class ClientMetadataTests(ServerFixture server)
{
    [Fact]
    public async Task Model_metadata_describes_the_model_and_is_served_from_the_cache_after()
    {
        using var client = new InferenceClient(server.BaseAddress);

        var metadata = await client.GetModelMetadataAsync("ctr-ranker");

        Assert.Equal("ctr-ranker", metadata.Name);
        Assert.Equal(["1"], metadata.Versions);
        Assert.Equal("pytorch_libtorch", metadata.Platform);
        Assert.Equal(["sparse", "dense"], metadata.Inputs.Select(t => t.Name));
        Assert.Equal(TensorDatatype.Int64, metadata.Inputs[0].KnownDatatype);
        Assert.Equal([-1L, 26L], metadata.Inputs[0].Shape);
        Assert.Equal("FP32", metadata.Inputs[1].Datatype);
        Assert.Equal([-1L, 13L], metadata.Inputs[1].Shape);
        var output = Assert.Single(metadata.Outputs);
        Assert.Equal(("probability", "FP32"), (output.Name, output.Datatype));
        Assert.Same(metadata, await client.GetModelMetadataAsync("ctr-ranker"));
        var version = await client.GetModelMetadataAsync("ctr-ranker", "1");
        Assert.NotSame(metadata, version);
        Assert.Same(version, await client.GetModelMetadataAsync("ctr-ranker", "1"));

        client.ForgetModelMetadata("ctr-ranker");
        Assert.NotSame(metadata, await client.GetModelMetadataAsync("ctr-ranker"));
    }

    [Fact]
    public async Task Model_metadata_is_fetched_once_per_model_and_version_until_forgotten()
    {
        await using var stub = await StubHttpServer.StartAsync((ctx, _) =>
        {
            ctx.Response.ContentType = "application/json";
            return ctx.Response.WriteAsync("""{"name":"m","versions":["1","2"],"platform":"p","inputs":[{"name":"x","datatype":"FP8","shape":[-1]}],"outputs":[]}""");
        });
        using var client = new InferenceClient(stub.Address);

        var first = await client.GetModelMetadataAsync("m");
        await client.GetModelMetadataAsync("m");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.GetModelMetadataAsync("m")));
        Assert.Equal(1, stub.Requests);
        Assert.Null(first.Inputs[0].KnownDatatype);

        await client.GetModelMetadataAsync("m", "2");
        Assert.Equal(2, stub.Requests);
        client.ForgetModelMetadata();
        await client.GetModelMetadataAsync("m");
        Assert.Equal(3, stub.Requests);
        Assert.Equal(["/v2/models/m", "/v2/models/m/versions/2", "/v2/models/m"], stub.Received.Select(r => r.Path));
    }

    [Fact]
    public async Task Metadata_of_an_unknown_model_is_NotFound()
    {
        using var client = new InferenceClient(server.BaseAddress);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.GetModelMetadataAsync("no-such-model"));

        Assert.Equal(InferenceStatus.NotFound, e.Status);
        Assert.Contains("no-such-model", e.ServerMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_metadata_and_health_come_from_the_server()
    {
        using var client = new InferenceClient(server.BaseAddress);

        var metadata = await client.GetServerMetadataAsync();

        Assert.Equal("lowlatency", metadata.Name);
        Assert.Contains("binary_tensor_data", metadata.Extensions);
        Assert.True(await client.IsLiveAsync());
        Assert.True(await client.IsReadyAsync());
        Assert.True(await client.IsModelReadyAsync("text-encoder"));
        Assert.True(await client.IsModelReadyAsync("text-encoder", "1"));
        Assert.False(await client.IsModelReadyAsync("text-encoder", "9"));
        Assert.False(await client.IsModelReadyAsync("no-such-model"));
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_neither_live_nor_ready()
    {
        using var client = new InferenceClient(new InferenceClientOptions
        {
            Address = new Uri($"http://127.0.0.1:{StubHttpServer.FreePort()}"),
            Retry = new RetryPolicy { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(1) },
        });

        Assert.False(await client.IsLiveAsync());
        Assert.False(await client.IsReadyAsync());
        Assert.False(await client.IsModelReadyAsync("ctr-ranker"));
        var e = await Assert.ThrowsAsync<InferenceException>(() => client.GetServerMetadataAsync());
        Assert.Equal(InferenceStatus.Unavailable, e.Status);
        Assert.Equal(2, e.Attempts);
    }
}
