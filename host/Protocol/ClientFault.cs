using Microsoft.AspNetCore.Connections;

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
    /// response, not started, gets 499, to be counted; nothing is sent.
    /// </summary>
    public static Refusal? Answer(HttpContext ctx, Exception e)
    {
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

    /// <summary>What is logged for a client gone.</summary>
    public static string Gone(Exception e) => "the client went away: " + e.Message;
}
