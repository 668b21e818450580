using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;
using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Endpoints;

/// <summary>The inference route's steps before the body is decoded: the headers, admission, the body read whole.</summary>
internal static partial class InferenceEndpoint
{
    /// <summary>The request's and the response's encodings, then whether the body can be decoded (its charset, Content-Encoding) and the server is ready.</summary>
    private static Refusal? CheckHeaders(HttpRequest request, InferenceEngine engine, out WireFormat requestFormat, out WireFormat responseFormat)
    {
        responseFormat = WireFormat.Json;
        if (!WireFormats.TryFromContentType(request.ContentType, out requestFormat))
        {
            return new Refusal(StatusCodes.Status415UnsupportedMediaType,
                $"unsupported Content-Type {ClientText.Quoted(request.ContentType)}; use {WireFormats.JsonType}, {WireFormats.MsgPackType}, or {BinaryTensorData.ContentType} (JSON followed by binary tensors)");
        }

        responseFormat = WireFormats.FromAccept(request.Headers.Accept, requestFormat);
        if (WireFormats.ForeignCharset(request.ContentType) is { } charset)
        {
            return new Refusal(StatusCodes.Status415UnsupportedMediaType, $"Content-Type charset {ClientText.Quoted(charset)} is not supported: send the body in UTF-8");
        }

        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && !IsIdentity(encoding))
        {
            // tritonclient can gzip or deflate its bodies: decoded as they are, they would be refused
            // as malformed at their first byte, which names nothing.
            return new Refusal(StatusCodes.Status415UnsupportedMediaType, $"Content-Encoding {ClientText.Quoted(encoding.ToString())} is not supported: send the body uncompressed");
        }

        if (!engine.IsReady)
        {
            return new Refusal(StatusCodes.Status503ServiceUnavailable, engine.IsStopping ? "the server is shutting down" : "the server is not ready: models are loading");
        }

        return null;
    }

    private static bool IsIdentity(StringValues encoding)
    {
        foreach (var e in encoding)
        {
            if (!string.IsNullOrWhiteSpace(e) && !e.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The checks after access, in order, each holding in <paramref name="admission"/> what its end
    /// gives back: the rate limits; the route, to the version the request runs on; the body's declared
    /// length; its place in the body budget.
    /// </summary>
    private static Refusal? Admit(HttpContext ctx, Services services, string name, string? version, ref Admission admission)
    {
        if (services.RateLimits.Enabled && services.RateLimits.Acquire(Access.ClientOf(ctx), name) is { } limited)
        {
            return limited;
        }

        var status = GatewayRoute.Route(ctx, services.Gateway, services.Engine, name, version, out admission.Routed, out admission.Call, out string? error, RemoteFace.Http);
        if (status != InferenceStatus.Ok)
        {
            // Not found as unknown; otherwise (a malformed version, no healthy version) under the served
            // model's own name if there is one: the URL's text is never a label, whatever the refusal.
            admission.Counted = status != InferenceStatus.NotFound && services.Engine.TryGetModel(name, out var served) ? served.Name : null;
            return new Refusal(HttpStatus.Of(status), error!, RetryAfter: status == InferenceStatus.Unavailable ? "1" : null);
        }

        // A remote backend is counted under the alias: a name of the alias file, as bounded as the models'.
        (admission.IsRouted, admission.Counted) = admission.Call.IsRemote ? (false, name) : (true, admission.Routed.Version.Config.Name);
        if (ctx.Request.ContentLength > services.MaxRequestBodyBytes)
        {
            return TooLarge(ctx.Request.ContentLength.Value, services.MaxRequestBodyBytes);
        }

        // A body without a Content-Length (chunked) may grow to the limit: it reserves that much.
        long bytes = ctx.Request.ContentLength ?? UnknownLength(ctx, services.MaxRequestBodyBytes);
        return services.Bodies.TryReserve(bytes, out admission.Reservation) ? null : BudgetFull(bytes, services.Bodies.Limit);
    }

    /// <summary>What a body of no declared length reserves: the limit, or nothing when the request has no body at all.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static long UnknownLength(HttpContext ctx, long limit) =>
        ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false ? 0 : limit;

    /// <summary>A body that does not fit in the body budget now: 503, to be retried (also the repository routes' answer).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static Refusal BudgetFull(long bytes, long budget) =>
        new(StatusCodes.Status503ServiceUnavailable,
            $"the server holds as many request bodies as it may (LowLatency:MaxBufferedRequestBodyBytes, {budget} bytes): a body of {bytes} bytes does not fit now; retry",
            RetryAfter: "1");

    /// <summary>
    /// The body, read whole or past the limit; or the request's end: refused (too large, malformed
    /// chunking, too slow), or its client gone (no refusal). Completes at once when the body is in
    /// Kestrel's buffers already, as a small one is with its headers; otherwise its wait is pooled.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<BodyRead> ReadBodyAsync(HttpContext ctx, PipeReader reader, long limit, ILogger clientFaults)
    {
        try
        {
            ReadResult read;
            do
            {
                read = await reader.ReadAsync(ctx.RequestAborted);
            }
            while (!ReadEnough(reader, read, limit));

            var refusal = CheckLength(reader, read.Buffer, limit);
            return new BodyRead(read.Buffer, refusal, refusal is not null);
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            // The client's doing, answered where it can still be and counted under the routed model,
            // never an application error with its trace.
            return new BodyRead(default, BodyFault(ctx, e, clientFaults), true);
        }
    }

    /// <summary>
    /// Whether the body is read whole, or past the limit; if neither, the pipe is asked for more, nothing
    /// consumed. Once a Content-Length body was examined so, Kestrel cannot reset its connection's input
    /// when a later read fails: <see cref="ClientFault.Answer"/> ends the connection.
    /// </summary>
    internal static bool ReadEnough(PipeReader reader, in ReadResult read, long limit)
    {
        if (read.IsCompleted || read.Buffer.Length > limit)
        {
            return true;
        }

        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        return false;
    }

    /// <summary>A body read past the limit is refused (and given back to Kestrel) before anything is made for it.</summary>
    private static Refusal? CheckLength(PipeReader reader, ReadOnlySequence<byte> body, long limit)
    {
        if (body.Length <= limit)
        {
            return null;
        }

        // Measured before the buffer goes back to Kestrel, which recycles its segments.
        var refusal = TooLarge(body.Length, limit);
        reader.AdvanceTo(body.End);
        return refusal;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static Refusal TooLarge(long bytes, long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"request body of {bytes} bytes exceeds the limit of {limit} bytes (LowLatency:MaxRequestBodyBytes)");

    /// <summary>The answer to a request its client failed (<see cref="ClientFault"/>), logged as such; null when the client is gone.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal? BodyFault(HttpContext ctx, Exception e, ILogger log)
    {
        var answer = ClientFault.Answer(ctx, e);
        ClientFaultLog.Write(log, "inference", answer?.StatusCode ?? StatusCodes.Status499ClientClosedRequest, answer?.Message ?? ClientFault.Gone(e));
        return answer;
    }

    /// <summary>A body read (<see cref="ReadBodyAsync"/>), or <see cref="Ended"/> the request with its refusal, if any.</summary>
    private readonly record struct BodyRead(ReadOnlySequence<byte> Body, Refusal? Refusal, bool Ended);
}
