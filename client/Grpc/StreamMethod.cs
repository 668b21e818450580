using Grpc.Core;
using LowLatency.Client.Wire;

namespace LowLatency.Client.Grpc;

/// <summary>
/// <c>ModelStreamInfer</c> with this client's own marshallers: each request a <c>ModelInferRequest</c>
/// written as <see cref="InferMethod.ModelInfer"/> writes it, each answer read by <see cref="StreamAnswerDecoder"/>.
/// </summary>
internal static class StreamMethod
{
    public static readonly Method<InferCall, StreamAnswer> ModelStreamInfer = new(
        MethodType.DuplexStreaming,
        "inference.GRPCInferenceService",
        "ModelStreamInfer",
        new Marshaller<InferCall>(GrpcRequestEncoder.Serialize, _ => throw new NotSupportedException("a client never reads requests")),
        new Marshaller<StreamAnswer>((_, _) => throw new NotSupportedException("a client never writes answers"), StreamAnswerDecoder.Deserialize));
}
