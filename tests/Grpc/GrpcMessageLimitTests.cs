using Grpc.Core;
using Inference;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// The RPCs other than inference take messages of at most 1 MiB (a repository route's body), checked
/// from the message's prefix before anything is read or access is checked, while ModelInfer and
/// ModelStreamInfer take messages up to <c>LowLatency:MaxRequestBodyBytes</c> (8 MiB here).
/// </summary>
public sealed class GrpcMessageLimitTests
{
    [Fact]
    public async Task Control_rpcs_refuse_a_message_past_1_MiB_while_inference_takes_it()
    {
        await using var server = await GrpcReadyServer.StartAsync(RepoPaths.Models, ["--LowLatency:MaxRequestBodyBytes=8388608"]);
        var client = server.Client;
        string large = new('p', 2 << 20);

        var load = new RepositoryModelLoadRequest { ModelName = "ctr-ranker" };
        load.Parameters["config"] = new ModelRepositoryParameter { StringParam = large };
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.RepositoryModelLoadAsync(load));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        var index = new RepositoryIndexRequest { RepositoryName = large };
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(async () => await client.RepositoryIndexAsync(index))).StatusCode);
        // The model was not reloaded with the refused configuration, and small control calls still answer.
        Assert.True((await client.ModelReadyAsync(new ModelReadyRequest { Name = "ctr-ranker" })).Ready);

        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        var request = GrpcWire.Request("ctr-ranker", golden.Request, raw: true);
        request.Parameters["padding"] = new InferParameter { StringParam = large };
        Wire.AssertClose(golden.Expected[0], GrpcWire.Result(await client.ModelInferAsync(request)).Outputs[0]);

        using var call = client.ModelStreamInfer();
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("", call.ResponseStream.Current.ErrorMessage);
        Wire.AssertClose(golden.Expected[0], GrpcWire.Result(call.ResponseStream.Current.InferResponse).Outputs[0]);
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }
}
