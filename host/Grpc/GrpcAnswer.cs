using Grpc.Core;

namespace LowLatency.Host.Grpc;

/// <summary>
/// A call's end as gRPC over HTTP/2 has it: <c>grpc-status</c> and <c>grpc-message</c> (percent-encoded)
/// in the trailers after the message, or in the headers alone (Trailers-Only) when nothing was sent;
/// the engine's Server-Timing beside them as trailing metadata, and a refusal's <c>retry-after</c>
/// (seconds, as REST's header; the C# client honours it as over HTTP).
/// </summary>
internal static class GrpcAnswer
{
    public const string ContentType = "application/grpc";
    public const string ServerTiming = "server-timing";
    public const string RetryAfter = "retry-after";

    /// <summary>The most characters of a message sent (as REST's error bodies).</summary>
    private const int MaxMessageChars = Protocol.ResponseWriter.MaxErrorChars;

    /// <summary>Ends the call with <paramref name="code"/>: Trailers-Only if the response has not started, else in trailers.</summary>
    public static void Status(HttpResponse response, StatusCode code, string? message, string? timing = null, string? retryAfter = null)
    {
        if (response.HasStarted)
        {
            Trailers(response, code, message, timing, retryAfter);
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        var headers = response.Headers;
        headers["grpc-status"] = GrpcStatus.Number(code);
        if (message is not null)
        {
            headers["grpc-message"] = Encode(message);
        }

        if (timing is not null)
        {
            headers[ServerTiming] = timing;
        }

        if (retryAfter is not null)
        {
            headers[RetryAfter] = retryAfter;
        }
    }

    public static void Trailers(HttpResponse response, StatusCode code, string? message, string? timing, string? retryAfter = null)
    {
        response.AppendTrailer("grpc-status", GrpcStatus.Number(code));
        if (message is not null)
        {
            response.AppendTrailer("grpc-message", Encode(message));
        }

        if (timing is not null)
        {
            response.AppendTrailer(ServerTiming, timing);
        }

        if (retryAfter is not null)
        {
            response.AppendTrailer(RetryAfter, retryAfter);
        }
    }


    private static string Encode(string message) => PercentEncoding.Encode(Engine.Config.ClientText.Truncate(message, MaxMessageChars));
}
