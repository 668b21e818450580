using LowLatency.Engine.Requests;

namespace LowLatency.Host.Protocol;

/// <summary>
/// A request turned away: the HTTP status, the message of its <c>{"error": ...}</c> body, and the
/// headers that tell the client what to do next. A check returns one and the endpoint writes it
/// with <see cref="ErrorResponse"/>, in the response's encoding. The default value refuses nothing.
/// </summary>
/// <param name="RetryAfter">Seconds, for <c>Retry-After</c> (a rate limit, a full queue, no healthy version); null: none.</param>
/// <param name="WwwAuthenticate">The <c>WWW-Authenticate</c> challenge of a 401; null: none.</param>
internal readonly record struct Refusal(int StatusCode, string Message, string? RetryAfter = null, string? WwwAuthenticate = null)
{
    /// <summary>False for the default value: the request may go on.</summary>
    public bool Refused => StatusCode != 0;

    /// <summary>An engine outcome other than Ok, answered with its <see cref="HttpStatus"/> and no header.</summary>
    public static Refusal Of(InferenceStatus status, string message) => new(HttpStatus.Of(status), message);
}
