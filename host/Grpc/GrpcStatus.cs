using Grpc.Core;
using LowLatency.Host.Protocol;

namespace LowLatency.Host.Grpc;

/// <summary>
/// A call's outcome as gRPC names it: the status code each HTTP answer of the REST routes becomes
/// (the same cases, so that a client sees the same semantics on either face), and the canonical names
/// gRPC's status codes carry in metrics.
/// </summary>
internal static class GrpcStatus
{
    private static readonly string[] Names = GrpcStatusNames.All;

    // The status values as trailer text, made once.
    private static readonly string[] Numbers = [.. Enumerable.Range(0, Names.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public static string Name(StatusCode code) => (uint)code < (uint)Names.Length ? Names[(int)code] : "UNKNOWN";

    /// <summary>The <c>grpc-status</c> value.</summary>
    public static string Number(StatusCode code) => Numbers[(int)code];

    /// <summary>The status a REST answer of <paramref name="httpStatus"/> becomes.</summary>
    public static StatusCode FromHttp(int httpStatus) => httpStatus switch
    {
        StatusCodes.Status200OK => StatusCode.OK,
        StatusCodes.Status400BadRequest => StatusCode.InvalidArgument,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status408RequestTimeout => StatusCode.DeadlineExceeded,
        StatusCodes.Status409Conflict => StatusCode.FailedPrecondition,
        StatusCodes.Status413PayloadTooLarge => StatusCode.ResourceExhausted,
        StatusCodes.Status415UnsupportedMediaType => StatusCode.InvalidArgument,
        StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status499ClientClosedRequest => StatusCode.Cancelled,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        StatusCodes.Status504GatewayTimeout => StatusCode.DeadlineExceeded,
        StatusCodes.Status501NotImplemented => StatusCode.Unimplemented,
        _ => StatusCode.Internal,
    };

    /// <summary>A refusal of the REST routes as the gRPC call's status.</summary>
    public static Status Of(Refusal refusal) => new(FromHttp(refusal.StatusCode), refusal.Message);

    /// <summary>The exception a service method throws to end its call with the refusal's status.</summary>
    public static RpcException Exception(Refusal refusal) =>
        refusal.RetryAfter is { } after ? new(Of(refusal), new Metadata { { GrpcAnswer.RetryAfter, after } }) : new(Of(refusal));

}
