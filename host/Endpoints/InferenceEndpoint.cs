using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Memory;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;
using LowLatency.Join;
using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// <c>POST /v2/models/{name}[/versions/{version}]/infer</c>: check the request, read the body from
/// Kestrel's pipe, decode it into an engine request and submit it, await the engine, write the answer.
/// </summary>
internal static class InferenceEndpoint
{
    /// <summary>A request carrying this header always lands on the same version while the traffic weights are unchanged.</summary>
    public const string RoutingKeyHeader = "X-Routing-Key";

    /// <summary>Set on an answer a fallback gave because no version of the model was healthy.</summary>
    public const string DegradedHeader = "X-LowLatency-Degraded";

    /// <summary>The model a response is counted under until one is routed to, and when the request ends in an exception the server did not expect.</summary>
    private const string Unknown = "unknown";

    /// <summary>
    /// The inference routes: matched by hand ahead of endpoint routing (<see cref="InferenceRoute"/>;
    /// so call this before <c>UseRouting</c>), and as routes for every other form of their URLs. On a
    /// connection of the gRPC listener (<paramref name="onGrpcListener"/>, null when there is none) the
    /// hand match steps aside: those connections serve gRPC routes only.
    /// </summary>
    public static void Map(WebApplication app, long maxRequestBodyBytes, Func<HttpContext, bool>? onGrpcListener)
    {
        // Resolved once, not per request: asking the request's services would make its service
        // scope, which nothing else on this route needs (docs/performance.md#host-request-path).
        var services = new Services(
            app.Services.GetRequiredService<InferenceEngine>(),
            maxRequestBodyBytes,
            app.Services.GetRequiredService<RateLimits>(),
            app.Services.GetRequiredService<AccessOptions>(),
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ClientFaultLog.Category),
            app.Services.GetRequiredService<BodyBudget>(),
            app.Services.GetRequiredService<Unanswered>(),
            app.Services.GetService<FeatureJoiner>(),
            app.Services.GetRequiredService<ModelGateway>());
        var names = new RouteNames();
        var routes = new InferenceRoute.Endpoints(app.Services);
        app.Use((ctx, next) =>
        {
            if (!HttpMethods.IsPost(ctx.Request.Method)
                || !InferenceRoute.TryMatch(ctx.Request.Path.Value, out var nameText, out var versionText)
                || (onGrpcListener is not null && onGrpcListener(ctx)))
            {
                return next(ctx);
            }

            bool kept = names.TryGet(nameText, out string name);
            string? version = null;
            if (!versionText.IsEmpty)
            {
                kept &= names.TryGet(versionText, out version);
            }

            // As routing would have: ASP.NET Core's request metric takes its http.route label from it.
            ctx.SetEndpoint(version is null ? routes.Model : routes.Version);
            var task = InferAsync(ctx, services, name, version);
            return kept ? task : KeepWhenRouted(task, ctx, names, name, version);
        });
        app.MapPost(InferenceRoute.ModelPattern, (HttpContext ctx, string name) => InferAsync(ctx, services, name, null));
        app.MapPost(InferenceRoute.VersionPattern, (HttpContext ctx, string name, string version) => InferAsync(ctx, services, name, version));
    }

    /// <summary>Keeps a URL's new names once a request to them was routed (not a 404: names the server serves).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task KeepWhenRouted(Task request, HttpContext ctx, RouteNames names, string name, string? version)
    {
        await request;
        if (ctx.Response.StatusCode != StatusCodes.Status404NotFound)
        {
            names.Keep(name);
            if (version is not null)
            {
                names.Keep(version);
            }
        }
    }

    /// <summary>
    /// The whole request in one async method, on purpose: an async method awaiting another gets a
    /// state-machine box of its own when the inner one goes asynchronous, as awaiting the engine
    /// always does (docs/performance.md#host-request-path). So each step that does not wait is a
    /// synchronous helper, and a step that refuses the request returns a <see cref="Refusal"/> (null: go on),
    /// which is written and ends it.
    /// </summary>
    private static async Task InferAsync(HttpContext ctx, Services services, string name, string? version)
    {
        string counted = Unknown;
        Routed routed = default;
        bool isRouted = false;
        BackendCall call = default;
        var responseFormat = WireFormat.Json;
        long reservation = 0;
        try
        {
            // What the headers and the URL decide, before the body is read.
            var refusal = CheckHeaders(ctx.Request, services.Engine, out var requestFormat, out responseFormat);
            if (refusal is null)
            {
                refusal = await Access.InferAsync(ctx, services.Access, name);
            }

            if (refusal is null)
            {
                refusal = Admit(ctx, services, name, version, out routed, out isRouted, out call, out counted, out reservation);
            }

            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
                return;
            }

            // The whole body, or enough of it to know it is too large.
            var reader = ctx.Request.BodyReader;
            ReadResult read;
            try
            {
                do
                {
                    read = await reader.ReadAsync(ctx.RequestAborted);
                }
                while (!ReadEnough(reader, read, services.MaxRequestBodyBytes));

                refusal = CheckLength(reader, read.Buffer, services.MaxRequestBodyBytes);
            }
            catch (Exception e) when (ClientFault.Is(e))
            {
                // Malformed chunking, a body too slow, a client gone: the client's doing, answered
                // where it can still be and counted under the routed model, never an application
                // error with its trace. Awaited below, not here: an await in a catch would grow this
                // method's state, which every request allocates.
                read = default;
                refusal = BodyFault(ctx, e, services.ClientFaults);
                if (refusal is null)
                {
                    return;
                }
            }

            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
                return;
            }

            if (call.RulesPending)
            {
                // The alias's rules, on the body as read: they may send it elsewhere before it is decoded.
                RuleStep.Apply(ctx, services.Engine, requestFormat, read.Buffer, ref routed, ref isRouted, ref call, ref counted);
            }

            if (call.IsRemote)
            {
                // A remote backend's: forwarded as read. Its attempts are counted by the gateway; a
                // retry that lands on a local backend goes on below as any local request.
                var local = await RemoteStep.RunAsync(ctx, services.Engine, call, reader, read.Buffer, responseFormat);
                call = default;
                if (local is null)
                {
                    return;
                }

                (routed, call, isRouted, counted) = (local.Routed, local.Call, true, local.Routed.Version.Config.Name);
            }

            // Disposed at the end of this block, before the route is released below.
            using var request = routed.Version.RentRequest();
            // Tracing off (no listener): one check. On: the request's span, parent of its queue and execute spans.
            using var span = EngineTracing.Enabled ? StartSpan(request, routed.Version) : null;
            refusal = Submit(request, routed, requestFormat, reader, read.Buffer, ctx.Request.Headers[BinaryTensorData.HeaderName], services.Joiner, out var completion, out var binaryOutputs, out var joined, out var pendingJoin);
            if (refusal is null && pendingJoin is not null)
            {
                // A feature join that waits for the store (a near-cache miss): the rest of its
                // submission runs when the rows are in.
                try
                {
                    (refusal, joined) = await JoinStep.JoinedAsync(pendingJoin.Value);
                    refusal = SubmitJoined(request, routed, reader, read.Buffer, refusal, out completion);
                }
                catch
                {
                    // Not submitted: the body is not borrowed any more.
                    reader.AdvanceTo(read.Buffer.End);
                    throw;
                }
            }

            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
                return;
            }

            if (!completion.IsCompleted)
            {
                // A client that goes away while the engine holds its request cancels it: it leaves its
                // queue and never runs, unless it was batched already. The registration lives on the
                // pooled request (this method's state, allocated per request, stays as it was) and
                // ends when the request is disposed.
                request.CancelWhen(ctx.RequestAborted);
            }

            bool ok;
            try
            {
                ok = await completion;
            }
            finally
            {
                // The request borrowed its tensor bytes from the body's buffers (MessagePack): they go
                // back to Kestrel only once the engine has answered, which is after the worker copied them.
                reader.AdvanceTo(read.Buffer.End);
            }

            RecordTiming(ctx.Response, span, request);
            if (!ok)
            {
                if (request.Status == InferenceStatus.Cancelled)
                {
                    // Its client is gone: nothing is written, and the 499 is counted below.
                    ClientGone(ctx, request, services.ClientFaults);
                    return;
                }

                await ErrorResponse.WriteAsync(ctx, responseFormat, Failed(request));
                return;
            }

            WriteAnswer(ctx.Response, responseFormat, request, routed, binaryOutputs, joined.Statuses);
            // The outputs are in the response's buffers now: let go of the batch's output tensors before
            // the flush, which may wait on a slow client.
            request.ReleaseOutputs();
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            // Past the body: the client went away while its answer was sent (counted as what was
            // sent). Anything else is answered as the request ends, without an await here.
            if (BodyFault(ctx, e, services.ClientFaults) is { } answer)
            {
                ErrorResponse.Write(ctx, responseFormat, answer.StatusCode, answer.Message);
            }
        }
        catch
        {
            counted = Unknown;
            throw;
        }
        finally
        {
            // After the request went back to its pool and its outputs were released: a retired
            // version frees its native memory only once its last routed request lets go.
            if (isRouted)
            {
                routed.Release();
            }

            if (call.IsSet)
            {
                // What the alias's weights follow: server-side failures count, a client's mistakes do not.
                call.Finish(ctx.Response.StatusCode < StatusCodes.Status500InternalServerError);
            }

            if (reservation != 0)
            {
                // Kestrel has the body's buffers back (the last AdvanceTo): so has the budget.
                services.Bodies.Release(reservation);
                services.Unanswered.CountIfCut(ctx, services.Engine.IsStopping);
            }

            HostMetrics.RecordResponse(counted, ctx.Response.StatusCode);
        }
    }

    /// <summary>A request the engine cancelled because its client went away: counted as 499 and logged as any client gone, never answered.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ClientGone(HttpContext ctx, InferenceRequest request, ILogger log)
    {
        ctx.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
        ClientFaultLog.Write(log, "inference", StatusCodes.Status499ClientClosedRequest, request.Error!);
    }

    /// <summary>The answer to a request its client failed (<see cref="ClientFault"/>), logged as such; null when the client is gone.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal? BodyFault(HttpContext ctx, Exception e, ILogger log)
    {
        var answer = ClientFault.Answer(ctx, e);
        ClientFaultLog.Write(log, "inference", answer?.StatusCode ?? StatusCodes.Status499ClientClosedRequest, answer?.Message ?? ClientFault.Gone(e));
        return answer;
    }

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
    /// The checks after access, in order: the rate limits; the route, to the version the request runs
    /// on (holding a reference for it until <see cref="Routed.Release"/>: <paramref name="isRouted"/>);
    /// the body's declared length; its place in the body budget (<paramref name="reservation"/>, given
    /// back at the end; 0: none). <paramref name="counted"/> is the model the response is counted
    /// under: always a name the server serves, or unknown, so that clients cannot grow the label set.
    /// </summary>
    private static Refusal? Admit(HttpContext ctx, Services services, string name, string? version, out Routed routed, out bool isRouted, out BackendCall call, out string counted, out long reservation)
    {
        (routed, isRouted, call, counted, reservation) = (default, false, default, Unknown, 0);
        if (services.RateLimits.Enabled && services.RateLimits.Acquire(Access.ClientOf(ctx), name) is { } limited)
        {
            return limited;
        }

        var status = GatewayRoute.Route(ctx, services.Gateway, services.Engine, name, version, out routed, out call, out string? error, RemoteFace.Http);
        if (status != InferenceStatus.Ok)
        {
            // Not found as unknown; otherwise (a malformed version, no healthy version) under the served
            // model's own name if there is one: the URL's text is never a label, whatever the refusal.
            counted = status != InferenceStatus.NotFound && services.Engine.TryGetModel(name, out var served) ? served.Name : Unknown;
            return new Refusal(HttpStatus.Of(status), error!, RetryAfter: status == InferenceStatus.Unavailable ? "1" : null);
        }

        // A remote backend is counted under the alias: a name of the alias file, as bounded as the models'.
        (isRouted, counted) = call.IsRemote ? (false, name) : (true, routed.Version.Config.Name);
        if (ctx.Request.ContentLength > services.MaxRequestBodyBytes)
        {
            return TooLarge(ctx.Request.ContentLength.Value, services.MaxRequestBodyBytes);
        }

        // A body without a Content-Length (chunked) may grow to the limit: it reserves that much.
        long bytes = ctx.Request.ContentLength ?? UnknownLength(ctx, services.MaxRequestBodyBytes);
        return services.Bodies.TryReserve(bytes, out reservation) ? null : BudgetFull(bytes, services.Bodies.Limit);
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

    /// <summary>Whether the body is read whole, or past the limit; if neither, the pipe is asked for more, nothing consumed.</summary>
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

    /// <summary>
    /// Decodes the body into the request and submits it, or answers it with the route's fixed answer.
    /// Refused (bad input, a version stopping), the body goes back to Kestrel at once; submitted, the
    /// request may borrow from it until answered.
    /// </summary>
    private static Refusal? Submit(InferenceRequest request, Routed routed, WireFormat format, PipeReader reader, ReadOnlySequence<byte> body, StringValues jsonLengthHeader, FeatureJoiner? joiner, out ValueTask<bool> completion, out BinaryOutputs binaryOutputs, out JoinResult joined, out ValueTask<JoinResult>? pendingJoin)
    {
        (completion, binaryOutputs, joined, pendingJoin) = (default, default, default, null);
        bool submitted = false;
        try
        {
            binaryOutputs = RequestDecoder.Decode(format, body, request, jsonLengthHeader);
            pendingJoin = JoinStep.Start(joiner, routed, request, out joined);
            if (pendingJoin is not null)
            {
                // Submitted once the join is done; the body stays with the request meanwhile.
                submitted = true;
                return null;
            }

            completion = Submission.Start(request, routed, pollWhenAlone: true);

            submitted = true;
            return null;
        }
        catch (InferenceException e)
        {
            return Refusal.Of(e.Status, e.Message);
        }
        finally
        {
            if (!submitted)
            {
                reader.AdvanceTo(body.End);
            }
        }
    }

    /// <summary>Submits a request whose feature join waited, unless it was refused; refused, the body goes back to Kestrel.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal? SubmitJoined(InferenceRequest request, Routed routed, PipeReader reader, ReadOnlySequence<byte> body, Refusal? joinRefusal, out ValueTask<bool> completion)
    {
        completion = default;
        var refusal = joinRefusal ?? JoinStep.Submit(request, routed, pollWhenAlone: true, out completion);

        if (refusal is not null)
        {
            reader.AdvanceTo(body.End);
        }

        return refusal;
    }

    /// <summary>The engine's timing of an answered request: on its span, and as the Server-Timing header.</summary>
    private static void RecordTiming(HttpResponse response, System.Diagnostics.Activity? span, InferenceRequest request)
    {
        if (span is not null)
        {
            EngineTracing.RecordRequest(span, request);
        }

        if (request.ExecEndUs != 0)
        {
            response.Headers["Server-Timing"] = ServerTimingHeader.For(request);
        }
    }

    /// <summary>A request the engine answered with an error; a full queue (429) says when to retry.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal Failed(InferenceRequest request) =>
        new(HttpStatus.Of(request.Status), request.Error!, RetryAfter: request.Status == InferenceStatus.Rejected ? "1" : null);

    /// <summary>
    /// The answer, with a Content-Length (docs/performance.md#host-request-path). MessagePack is sized
    /// before its first byte reaches the body (which starts the response), so the tensor bytes go from
    /// the batch's output tensors straight into the response. JSON's length is known only once its
    /// numbers are formatted: it goes through the response buffer, and the outputs asked for as binary
    /// data follow it straight from the output tensors.
    /// </summary>
    private static void WriteAnswer(HttpResponse response, WireFormat format, InferenceRequest request, Routed routed, BinaryOutputs binaryOutputs, string? featureStatuses)
    {
        if (routed.Degraded is not null)
        {
            response.Headers[DegradedHeader] = routed.Kind == RouteKind.FallbackModel ? "fallback-model" : "fallback-response";
        }

        response.ContentType = WireFormats.ContentType(format);
        if (format == WireFormat.MsgPack)
        {
            response.ContentLength = ResponseWriter.MsgPackLength(request, routed.Degraded, featureStatuses);
            ResponseWriter.WriteInference(response.BodyWriter, format, request, routed.Degraded, featureStatuses: featureStatuses);
            return;
        }

        var buffer = ResponseBuffer.ForThisThread();
        ResponseWriter.WriteInference(buffer, format, request, routed.Degraded, binaryOutputs, featureStatuses);
        long binaryBytes = ResponseWriter.BinaryLength(request, binaryOutputs);
        if (binaryBytes > 0)
        {
            response.ContentType = BinaryTensorData.ContentType;
            response.Headers[BinaryTensorData.HeaderName] = buffer.WrittenCount.ToString(CultureInfo.InvariantCulture);
        }

        ResponseBuffer.Send(response, buffer, binaryBytes);
        if (binaryBytes > 0)
        {
            ResponseWriter.WriteBinaryTensors(response.BodyWriter, request, binaryOutputs);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static System.Diagnostics.Activity? StartSpan(InferenceRequest request, ModelVersion model)
    {
        var span = EngineTracing.Source.StartActivity("infer " + model.Config.Name);
        if (span is not null)
        {
            request.TraceContext = span.Context;
        }

        return span;
    }

    /// <summary>The singletons the route uses, resolved once.</summary>
    private sealed record Services(InferenceEngine Engine, long MaxRequestBodyBytes, RateLimits RateLimits, AccessOptions Access, ILogger ClientFaults, BodyBudget Bodies, Unanswered Unanswered, FeatureJoiner? Joiner, ModelGateway Gateway);
}
