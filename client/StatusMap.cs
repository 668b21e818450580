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

    /// <summary>The HTTP status a gRPC code stands for (gRPC's own HTTP mapping, read backwards), for whoever judges both alike.</summary>
    public static int HttpOf(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.InvalidArgument or StatusCode.OutOfRange or StatusCode.FailedPrecondition => 400,
        StatusCode.Unauthenticated => 401,
        StatusCode.PermissionDenied => 403,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Cancelled => 499,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        StatusCode.DeadlineExceeded => 504,
        _ => 500,
    };
}
