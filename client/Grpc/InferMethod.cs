using Grpc.Core;
using LowLatency.Client.Wire;

namespace LowLatency.Client.Grpc;

/// <summary>
/// <c>ModelInfer</c> with this client's own marshallers: the request written by
/// <see cref="GrpcRequestEncoder"/> straight from the caller's tensors, the answer read by
/// <see cref="GrpcResponseDecoder"/> into a pooled <see cref="InferResult"/>. Wire-identical to the
/// generated method; only the messages in between are skipped.
/// </summary>
internal static class InferMethod
{
    public static readonly Method<InferCall, InferResult> ModelInfer = new(
        MethodType.Unary,
        "inference.GRPCInferenceService",
        "ModelInfer",
        new Marshaller<InferCall>(GrpcRequestEncoder.Serialize, _ => throw new NotSupportedException("a client never reads requests")),
        new Marshaller<InferResult>((_, _) => throw new NotSupportedException("a client never writes answers"), GrpcResponseDecoder.Deserialize));
}
