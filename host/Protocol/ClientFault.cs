using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace LowLatency.Host.Protocol;

/// <summary>
/// A request body that could not be read is the client's doing, not the server's: malformed chunking
/// (Kestrel throws <see cref="BadHttpRequestException"/> with 400, or an <see cref="IOException"/> for
/// a chunk size that overflows), a body arriving too slowly (408), or a client gone mid-body (reset,
/// or the request aborted, as Kestrel does on a FIN too). Answered with a 4xx in the response's
/// encoding where an answer can still be sent, counted under that code (499 for a client gone), and
/// never reported as a server error: any client can cause one.
/// </summary>
internal static class ClientFault
{
    /// <summary>Whether <paramref name="e"/>, thrown while a request's body was read or its answer sent, is the client's doing.</summary>
    public static bool Is(Exception e) => e is BadHttpRequestException or IOException or OperationCanceledException;

    /// <summary>
    /// The answer to a request its client failed, to be written and flushed as any refusal, with
    /// <c>Connection: close</c> set (where its next request would start is unknown, and what is left
    /// of its body cannot be read). Null when the client is gone: the connection is aborted and the
    /// response, not started, gets 499, to be counted; nothing is sent. Either way an HTTP/1.x
    /// connection serves no further request (<see cref="EndConnection"/>).
    /// </summary>
    public static Refusal? Answer(HttpContext ctx, Exception e)
    {
        EndConnection(ctx);
        if (ctx.RequestAborted.IsCancellationRequested || e is OperationCanceledException or ConnectionResetException || ctx.Response.HasStarted)
        {
            if (!ctx.Response.HasStarted)
            {
                ctx.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            }

            ctx.Abort();
            return null;
        }

        ctx.Response.Headers.Connection = "close";
        return new Refusal(e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest, "the request body could not be read: " + e.Message);
    }

    /// <summary>
    /// Tells Kestrel not to begin another request on this HTTP/1.x connection, whether an answer is
    /// sent or not (<c>Connection: close</c> does so only once an answer starts). A Content-Length body
    /// read whole is examined past what is consumed; when its client then stops sending (a FIN),
    /// Kestrel's read throws "Unexpected end of request content" and leaves the connection's input in
    /// a reading state it cannot reset (Http1ContentLengthMessageBody), and the FIN alone does not end
    /// its request loop: begun again, its next read threw "Reading is already in progress" and logged
    /// "Connection processing ended abnormally" (dotnet/aspnetcore#17840). HTTP/2 streams read their
    /// own pipes, and one stream's fault must not close the others' connection.
    /// </summary>
    private static void EndConnection(HttpContext ctx)
    {
        if (!HttpProtocol.IsHttp2(ctx.Request.Protocol) && !HttpProtocol.IsHttp3(ctx.Request.Protocol))
        {
            ctx.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }

    /// <summary>What is logged for a client gone.</summary>
    public static string Gone(Exception e) => "the client went away: " + e.Message;
}
