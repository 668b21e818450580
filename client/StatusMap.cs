using Grpc.Core;

namespace LowLatency.Client;

/// <summary>HTTP statuses and gRPC codes onto <see cref="InferenceStatus"/>.</summary>
internal static class StatusMap
{
    public static InferenceStatus FromHttp(int status) => status switch
    {
        400 => InferenceStatus.InvalidArgument,
        401 => InferenceStatus.Unauthenticated,
        403 => InferenceStatus.PermissionDenied,
        404 => InferenceStatus.NotFound,
        405 or 501 => InferenceStatus.Unimplemented,
        408 or 504 => InferenceStatus.DeadlineExceeded,
        409 => InferenceStatus.FailedPrecondition,
        413 => InferenceStatus.PayloadTooLarge,
        415 => InferenceStatus.UnsupportedMediaType,
        429 => InferenceStatus.ResourceExhausted,
        499 => InferenceStatus.Cancelled,
        500 => InferenceStatus.Internal,
        502 or 503 => InferenceStatus.Unavailable,
        _ => InferenceStatus.Unknown,
    };

    public static InferenceStatus FromGrpc(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.OutOfRange => InferenceStatus.InvalidArgument,
        StatusCode.Unauthenticated => InferenceStatus.Unauthenticated,
        StatusCode.PermissionDenied => InferenceStatus.PermissionDenied,
        StatusCode.NotFound => InferenceStatus.NotFound,
        StatusCode.DeadlineExceeded => InferenceStatus.DeadlineExceeded,
        StatusCode.ResourceExhausted => InferenceStatus.ResourceExhausted,
        StatusCode.Unavailable => InferenceStatus.Unavailable,
        StatusCode.FailedPrecondition => InferenceStatus.FailedPrecondition,
        StatusCode.Unimplemented => InferenceStatus.Unimplemented,
        StatusCode.Internal or StatusCode.DataLoss => InferenceStatus.Internal,
        StatusCode.Cancelled => InferenceStatus.Cancelled,
        _ => InferenceStatus.Unknown,
    };
}
