using Grpc.Core;
using LowLatency.Client;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Client;

/// <summary>
/// The client over gRPC through the real server: every golden case at its batch and stacked, mixed
/// text lengths, refusals with their gRPC codes, metadata.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcEndToEndTests(ServerFixture server)
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");

    /// <summary>The server's gRPC endpoint (127.0.0.1:8001 by default; an ephemeral port in tests).</summary>
    private Uri GrpcAddress => server.GrpcAddress;

    public static IEnumerable<object[]> Cases()
    {
        foreach (var c in GoldenCase.All())
        {
            yield return [c[0], c[1], 1];
            yield return [c[0], c[1], 2];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Golden_case_matches_PyTorch_over_gRPC(string model, string @case, int times)
    {
        var golden = GoldenCase.Load(model, @case);
        var request = times == 1 ? golden.Request : ClientTensors.Stacked(golden.Request, times);
        var expected = times == 1 ? golden.Expected : [.. golden.Expected.Select(t => ClientTensors.Stacked(t, times))];
        using var client = InferenceClient.ForGrpc(GrpcAddress);

        using var result = await client.InferAsync(model, ClientTensors.Inputs(request), ClientTensors.Options(request));

        Assert.Equal(model, result.ModelName);
        Assert.Equal("1", result.ModelVersion);
        Assert.Equal(request.Id, result.Id);
        ClientTensors.AssertOutputs(expected, result);
        Assert.True(result.ServerTiming.IsPresent);
    }

    [Fact]
    public async Task Text_encoder_requests_of_mixed_lengths_each_get_their_own_answer_over_gRPC()
    {
        var cases = new[] { "single-len5", "single-len40", "single-len77", "single-len128", "batch1", "batch4-padded" }.Select(c => GoldenCase.Load("text-encoder", c)).ToList();
        using var client = InferenceClient.ForGrpc(GrpcAddress);
        for (int round = 0; round < 5; round++)
        {
            var results = await Task.WhenAll(cases.Select(c => client.InferAsync("text-encoder", ClientTensors.Inputs(c.Request), ClientTensors.Options(c.Request))));
            for (int i = 0; i < cases.Count; i++)
            {
                using var result = results[i];
                Assert.Equal(cases[i].Request.Id, result.Id);
                ClientTensors.AssertOutputs(cases[i].Expected, result);
            }
        }
    }

    public static IEnumerable<object[]> Refusals()
    {
        InferDoc CtrWith(Func<TensorDoc, TensorDoc> sparse) => Ctr.Request with { Inputs = [sparse(Ctr.Request.Inputs[0]), Ctr.Request.Inputs[1]] };
        yield return ["ctr-ranker", CtrWith(t => t with { Name = "sparse_ids" }), StatusCode.InvalidArgument, "unknown input 'sparse_ids'"];
        yield return ["ctr-ranker", CtrWith(t => t with { Datatype = "INT32" }), StatusCode.InvalidArgument, "datatype INT32 does not match the model's INT64"];
        yield return ["ctr-ranker", CtrWith(t => ClientTensors.Stacked(t, 65)), StatusCode.InvalidArgument, "outside [1, 64]"];
        yield return ["ctr-ranker", Ctr.Request with { Inputs = [Ctr.Request.Inputs[1]] }, StatusCode.InvalidArgument, "missing input 'sparse'"];
        yield return ["ctr-ranker", Ctr.Request with { Outputs = ["logits"] }, StatusCode.InvalidArgument, "unknown output 'logits'"];
        yield return ["no-such-model", Ctr.Request, StatusCode.NotFound, "unknown model 'no-such-model'"];
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refusal_carries_its_gRPC_code_and_the_servers_message(string model, InferDoc doc, StatusCode code, string expected)
    {
        using var client = InferenceClient.ForGrpc(GrpcAddress);

        var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(model, ClientTensors.Inputs(doc), ClientTensors.Options(doc)));

        Assert.Equal(code, e.GrpcStatus);
        Assert.Equal(code == StatusCode.NotFound ? InferenceStatus.NotFound : InferenceStatus.InvalidArgument, e.Status);
        Assert.Contains(expected, e.ServerMessage, StringComparison.Ordinal);
        Assert.Equal(1, e.Attempts);
    }

    [Fact]
    public async Task Health_and_metadata_over_gRPC()
    {
        using var client = InferenceClient.ForGrpc(GrpcAddress);

        Assert.True(await client.IsLiveAsync());
        Assert.True(await client.IsReadyAsync());
        Assert.True(await client.IsModelReadyAsync("ctr-ranker"));
        Assert.False(await client.IsModelReadyAsync("no-such-model"));
        var metadata = await client.GetModelMetadataAsync("ctr-ranker");
        Assert.Equal(["sparse", "dense"], metadata.Inputs.Select(t => t.Name));
        Assert.Equal([-1L, 26L], metadata.Inputs[0].Shape);
        Assert.Equal("lowlatency", (await client.GetServerMetadataAsync()).Name);
    }

    [Fact]
    public async Task A_cancelled_call_ends_with_OperationCanceledException_over_gRPC()
    {
        using var client = InferenceClient.ForGrpc(GrpcAddress);
        using var cancel = new CancellationTokenSource();
        var call = client.InferAsync("image-classifier", ClientTensors.Inputs(GoldenCase.Load("image-classifier", "batch1").Request), null, cancel.Token);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }
}
