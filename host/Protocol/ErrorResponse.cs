namespace LowLatency.Host.Protocol;

/// <summary>
/// Writes an error answer, <c>{"error": "..."}</c> in the response's encoding, with a Content-Length
/// (through <see cref="ResponseBuffer"/>). Every endpoint answers its errors here.
/// </summary>
internal static class ErrorResponse
{
    /// <summary>The refusal's headers, then its status and message.</summary>
    public static Task WriteAsync(HttpContext ctx, WireFormat format, Refusal refusal)
    {
        if (refusal.RetryAfter is not null)
        {
            ctx.Response.Headers.RetryAfter = refusal.RetryAfter;
        }

        if (refusal.WwwAuthenticate is not null)
        {
            ctx.Response.Headers.WWWAuthenticate = refusal.WwwAuthenticate;
        }

        return WriteAsync(ctx, format, refusal.StatusCode, refusal.Message);
    }

    public static Task WriteAsync(HttpContext ctx, WireFormat format, int status, string message)
    {
        Write(ctx, format, status, message);
        return ctx.Response.BodyWriter.FlushAsync().AsTask();
    }

    /// <summary>Writes the answer into the response without flushing it: Kestrel sends it when the request ends (where no await may be).</summary>
    public static void Write(HttpContext ctx, WireFormat format, int status, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = WireFormats.ContentType(format);
        var buffer = ResponseBuffer.ForThisThread();
        ResponseWriter.WriteError(buffer, format, message);
        ResponseBuffer.Send(ctx.Response, buffer);
    }
}
