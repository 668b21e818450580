using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>
/// A request turned away: the HTTP status, the message of its <c>{"error": ...}</c> body, and the
/// headers that tell the client what to do next. A check returns one, or null to let the request
/// go on, and the endpoint writes it with <see cref="ErrorResponse"/> in the response's encoding.
/// A class: made only when a request is refused, and a nullable reference keeps the one async
/// method's state small (docs/performance.md#host-request-path).
/// </summary>
/// <param name="RetryAfter">Seconds, for <c>Retry-After</c> (a rate limit, a full queue, no healthy version); null: none.</param>
/// <param name="WwwAuthenticate">The <c>WWW-Authenticate</c> challenge of a 401; null: none.</param>
internal sealed record Refusal(int StatusCode, string Message, string? RetryAfter = null, string? WwwAuthenticate = null)
{
    /// <summary>An engine outcome other than Ok, answered with its <see cref="HttpStatus"/> and no header.</summary>
    public static Refusal Of(InferenceStatus status, string message) => new(HttpStatus.Of(status), message);
}
