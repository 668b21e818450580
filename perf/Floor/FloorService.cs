using Grpc.Core;
using Inference;

namespace LowLatency.Floor;

/// <summary>
/// Grpc.AspNetCore's own floor: Triton's service with ModelInfer answering one precomputed response,
/// the request parsed by the generated (default) marshaller and not looked at.
/// </summary>
internal sealed class FloorService(ModelInferResponse answer) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) => Task.FromResult(answer);
}
