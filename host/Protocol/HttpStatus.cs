using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>The HTTP status an engine outcome is answered with (README, "The protocol": errors).</summary>
internal static class HttpStatus
{
    public static int Of(InferenceStatus status) => status switch
    {
        InferenceStatus.Rejected => StatusCodes.Status429TooManyRequests,
        InferenceStatus.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        InferenceStatus.BadRequest => StatusCodes.Status400BadRequest,
        InferenceStatus.NotFound => StatusCodes.Status404NotFound,
        InferenceStatus.TooLarge => StatusCodes.Status413PayloadTooLarge,
        InferenceStatus.Unavailable => StatusCodes.Status503ServiceUnavailable,
        InferenceStatus.Cancelled => StatusCodes.Status499ClientClosedRequest,
        _ => StatusCodes.Status500InternalServerError,
    };
}
