using System.Collections.Concurrent;
using Grpc.Core;
using Inference;

namespace LowLatency.Tests.Client;

/// <summary>
/// A stand-in <c>GRPCInferenceService</c>, built on the protocol's generated server base: ModelInfer
/// echoes each input back as output <c>echo_&lt;name&gt;</c> (so every datatype's bytes make the round
/// trip) and records what arrived; a script may answer a call with a status instead, or stall.
/// </summary>
public sealed class StubGrpcService(StubGrpcService.Script script) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        int n = Interlocked.Increment(ref script.Calls);
        script.Received.Enqueue((request, context.RequestHeaders, context.Deadline, context.GetHttpContext().Connection.Id));
        if (script.Stall > TimeSpan.Zero)
        {
            await Task.Delay(script.Stall, context.CancellationToken);
        }

        if (script.Refuse?.Invoke(n) is { } refusal)
        {
            throw new RpcException(refusal.Status, refusal.Trailers ?? []);
        }

        var response = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = "1", Id = request.Id };
        for (int i = 0; i < request.Inputs.Count; i++)
        {
            var output = new ModelInferResponse.Types.InferOutputTensor { Name = "echo_" + request.Inputs[i].Name, Datatype = request.Inputs[i].Datatype };
            output.Shape.AddRange(request.Inputs[i].Shape);
            response.Outputs.Add(output);
            response.RawOutputContents.Add(request.RawInputContents[i]);
        }

        context.ResponseTrailers.Add("server-timing", "queue;dur=0.010, compute;dur=0.020, overhead;dur=0.003");
        return response;
    }

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) => Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) => Task.FromResult(new ServerReadyResponse { Ready = script.Ready });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        request.Name == "echo" ? Task.FromResult(new ModelReadyResponse { Ready = true }) : throw new RpcException(new Status(StatusCode.NotFound, $"unknown model '{request.Name}'"));

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = "stub", Version = "0.1", Extensions = { "binary_tensor_data" } });

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref script.MetadataCalls);
        if (request.Name != "echo")
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"unknown model '{request.Name}'"));
        }

        var response = new ModelMetadataResponse { Name = "echo", Platform = "stub", Versions = { "1" } };
        response.Inputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = "x", Datatype = "FP32", Shape = { -1, 4 } });
        response.Outputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = "echo_x", Datatype = "FP32", Shape = { -1, 4 } });
        return Task.FromResult(response);
    }

    /// <summary>What the stub does and saw; one per test.</summary>
    public sealed class Script
    {
        public int Calls;
        public int MetadataCalls;

        public bool Ready { get; set; } = true;

        public TimeSpan Stall { get; set; }

        /// <summary>Given the 1-based call number, a status to fail it with (and trailers), or null to answer.</summary>
        public Func<int, (Status Status, Metadata? Trailers)?>? Refuse { get; set; }

        public ConcurrentQueue<(ModelInferRequest Request, Metadata Headers, DateTime Deadline, string Connection)> Received { get; } = new();
    }
}
