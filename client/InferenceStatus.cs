namespace LowLatency.Client;

/// <summary>
/// Why a call failed, the same whichever transport carried it: HTTP statuses and gRPC status codes
/// map onto one set (the HTTP code or gRPC code itself is on <see cref="InferenceException"/>).
/// </summary>
public enum InferenceStatus
{
    /// <summary>Unmapped: see <see cref="InferenceException.HttpStatus"/> or <see cref="InferenceException.GrpcStatus"/>.</summary>
    Unknown = 0,

    /// <summary>Bad input: HTTP 400, gRPC INVALID_ARGUMENT or OUT_OF_RANGE. The message names the field.</summary>
    InvalidArgument,

    /// <summary>No valid credential: HTTP 401, gRPC UNAUTHENTICATED.</summary>
    Unauthenticated,

    /// <summary>No scope for the route or model: HTTP 403, gRPC PERMISSION_DENIED.</summary>
    PermissionDenied,

    /// <summary>Unknown model or version: HTTP 404, gRPC NOT_FOUND.</summary>
    NotFound,

    /// <summary>The deadline passed: HTTP 504 (it expired in the server's queue and never ran), HTTP 408, gRPC DEADLINE_EXCEEDED, or the client's own timer.</summary>
    DeadlineExceeded,

    /// <summary>Refused for load: a full queue, a rate limit, a deadline the work ahead makes unreachable (HTTP 429, gRPC RESOURCE_EXHAUSTED). Carries Retry-After.</summary>
    ResourceExhausted,

    /// <summary>Not ready, draining, no healthy version, or unreachable (HTTP 503, gRPC UNAVAILABLE, connection refused).</summary>
    Unavailable,

    /// <summary>The body was over the server's limit: HTTP 413.</summary>
    PayloadTooLarge,

    /// <summary>The server refused the body's encoding: HTTP 415.</summary>
    UnsupportedMediaType,

    /// <summary>Not allowed in the server's state (HTTP 409, gRPC FAILED_PRECONDITION).</summary>
    FailedPrecondition,

    /// <summary>The route or method does not exist: HTTP 405 or 501, gRPC UNIMPLEMENTED.</summary>
    Unimplemented,

    /// <summary>The model failed on input it accepted (HTTP 500, gRPC INTERNAL), or the answer could not be read.</summary>
    Internal,

    /// <summary>The server cancelled the call (gRPC CANCELLED, HTTP 499). A call cancelled by its own token throws <see cref="OperationCanceledException"/> instead.</summary>
    Cancelled,
}
