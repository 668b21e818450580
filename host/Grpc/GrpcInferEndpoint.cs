using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Grpc.Core;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Memory;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;
using LowLatency.Join;

namespace LowLatency.Host.Grpc;

/// <summary>
/// <c>inference.GRPCInferenceService/ModelInfer</c>, served by the host itself rather than by
/// Grpc.AspNetCore: its unary path hands a deserializer the message and takes the buffers back as
/// soon as it returns (PipeExtensions.ReadSingleMessageAsync advances the pipe past it), so tensor
/// bytes could not be borrowed until the answer. Here the message stays in Kestrel's buffers until
/// the engine has answered, as on the MessagePack route: <see cref="GrpcRequestDecoder"/> borrows
/// the raw tensors, <see cref="GrpcResponseEncoder"/> writes the outputs straight from the batch.
/// gRPC's framing is handled here: the 5-byte prefix, one message per call, <c>grpc-timeout</c>,
/// status and message in trailers (Trailers-Only when nothing was sent), Server-Timing as trailing metadata.
/// </summary>
internal static class GrpcInferEndpoint
{
    public const string Route = "/inference.GRPCInferenceService/ModelInfer";

    /// <summary>The model an answer is counted under until one is routed to.</summary>
    private const string Unknown = "unknown";

    private const int PrefixBytes = 5;

    public static void Map(WebApplication app, GrpcServices services) =>
        app.MapPost(Route, ctx => InferAsync(ctx, services)).WithMetadata(GrpcRoute.Instance);

    /// <summary>
    /// ModelInfer matched by hand ahead of endpoint routing, as REST's inference routes are
    /// (<see cref="InferenceRoute"/>): a POST to exactly <see cref="Route"/> on the gRPC
    /// listener skips the matcher and its route values (about 2 µs of CPU a call,
    /// docs/performance.md#grpc-request-path). Call before <c>UseRouting</c>; the route <see cref="Map"/>
    /// adds still answers every other way in (on the REST listener, 404 after routing).
    /// </summary>
    public static void UseAheadOfRouting(WebApplication app)
    {
        var services = app.Services.GetRequiredService<GrpcServices>();
        Endpoint? endpoint = null;
        app.Use((ctx, next) =>
        {
            if (!HttpMethods.IsPost(ctx.Request.Method) || !string.Equals(ctx.Request.Path.Value, Route, StringComparison.Ordinal) || !GrpcListenerFeature.On(ctx))
            {
                return next(ctx);
            }

            // As routing would have: ASP.NET Core's request metric takes its http.route label from it.
            ctx.SetEndpoint(endpoint ??= InferenceRoute.Endpoints.Find(app.Services.GetRequiredService<EndpointDataSource>(), Route));
            return InferAsync(ctx, services);
        });
    }

    /// <summary>
    /// The whole call in one async method, as the REST endpoint's (each awaited helper would box a
    /// state machine of its own): each step that does not wait is a synchronous helper returning a
    /// <see cref="Refusal"/> (null: go on), which ends the call with its gRPC status.
    /// </summary>
    private static async Task InferAsync(HttpContext ctx, GrpcServices services)
    {
        string counted = Unknown;
        var status = StatusCode.OK;
        Routed routed = default;
        bool isRouted = false;
        BackendCall call = default;
        long reservation = 0;
        var reader = ctx.Request.BodyReader;
        ReadResult read = default;
        bool holding = false;
        try
        {
            var refusal = CheckHeaders(ctx, services.Engine, out long deadlineUs);
            if (refusal is null)
            {
                // A credential before the message is read; its scope once the message names the model.
                refusal = await Access.AuthenticateAsync(ctx, services.Access);
            }

            long length = 0;
            if (refusal is null)
            {
                try
                {
                    // The prefix, then the message whole: its length says how much the budget holds for it.
                    while (true)
                    {
                        read = await reader.ReadAsync(ctx.RequestAborted);
                        holding = true;
                        if (ReadEnough(reader, read, PrefixBytes))
                        {
                            break;
                        }

                        holding = false;
                    }

                    refusal = CheckPrefix(read.Buffer, services.MaxMessageBytes, out length);
                    if (refusal is null)
                    {
                        refusal = services.Bodies.TryReserve(PrefixBytes + length, out reservation) ? null : BudgetFull(PrefixBytes + length, services.Bodies.Limit);
                    }

                    // Up to the end of the body: one byte past the message is a second message.
                    while (refusal is null && !ReadEnough(reader, read, PrefixBytes + length + 1))
                    {
                        holding = false;
                        read = await reader.ReadAsync(ctx.RequestAborted);
                        holding = true;
                    }

                    refusal ??= CheckLength(read, length);
                }
                catch (Exception e) when (ClientFault.Is(e))
                {
                    // A client gone or a stream reset: nothing to answer (the connection says why).
                    status = StatusCode.Cancelled;
                    Gone(ctx, e, services.ClientFaults);
                    return;
                }
            }

            var message = refusal is null ? read.Buffer.Slice(PrefixBytes, length) : default;
            string? name = null, version = null;
            if (refusal is null)
            {
                refusal = Target(message, services.Names, out name, out version);
            }

            if (refusal is null)
            {
                refusal = await Access.InferAsync(ctx, services.Access, name!);
            }

            if (refusal is null)
            {
                refusal = Admit(ctx, services, name!, version, out routed, out isRouted, out call, out counted);
            }

            if (refusal is not null)
            {
                status = Fail(ctx, refusal);
                return;
            }

            if (call.RulesPending)
            {
                // The alias's rules, on the message as read: they may send it elsewhere before it is decoded.
                RuleStep.Apply(ctx, services.Engine, GrpcRuleScan.Matches(call.Router.Definition.Rules, message), RemoteFace.Grpc, ref routed, ref isRouted, ref call, ref counted);
            }

            if (call.IsRemote)
            {
                // A remote backend's: the message forwarded as read (the buffers are given back below).
                // A retry that lands on a local backend goes on below as any local call.
                // The forward finishes the backend's call itself: not again at the end, even if it throws.
                var remote = call;
                call = default;
                var forwarded = await GrpcRemoteStep.RunAsync(ctx, services.Engine, remote, message, DeadlineTimestamp(deadlineUs));
                if (forwarded.Local is not { } local)
                {
                    status = forwarded.Status;
                    return;
                }

                (routed, call, isRouted, counted) = (local.Routed, local.Call, true, local.Routed.Version.Config.Name);
            }

            using var request = routed.Version.RentRequest();
            using var span = EngineTracing.Enabled ? InferenceEndpoint.StartSpan(request, routed.Version) : null;
            refusal = Submit(request, routed, message, deadlineUs, services.Joiner, out var completion, out var joined, out var pendingJoin);
            if (refusal is null && pendingJoin is not null)
            {
                // A feature join that waits for the store (a near-cache miss).
                (refusal, joined) = await JoinStep.JoinedAsync(pendingJoin.Value);
                refusal ??= JoinStep.Submit(request, routed, pollWhenAlone: true, out completion);
            }

            if (refusal is not null)
            {
                status = Fail(ctx, refusal);
                return;
            }

            if (!completion.IsCompleted)
            {
                // A cancelled call (or a connection gone) takes its request out of the queue: it never
                // runs unless it was batched already. The registration lives on the pooled request and
                // ends when the request is disposed.
                request.CancelWhen(ctx.RequestAborted);
            }

            // The request borrowed its tensors from the message: the buffers go back to Kestrel only
            // below, once the engine has answered (the worker copied them by then).
            bool ok = await completion;

            string? timing = Timing(span, request);
            if (!ok)
            {
                status = Fail(ctx, Failed(request), timing);
                return;
            }

            WriteAnswer(ctx.Response, request, routed.Degraded, timing, joined.Statuses);
            request.ReleaseOutputs();
        }
        catch (Exception e) when (ClientFault.Is(e))
        {
            status = StatusCode.Cancelled;
            Gone(ctx, e, services.ClientFaults);
        }
        catch
        {
            (counted, status) = (Unknown, StatusCode.Internal);
            throw;
        }
        finally
        {
            if (holding)
            {
                ReturnMessage(reader, read.Buffer.End);
            }

            if (isRouted)
            {
                routed.Release();
            }

            if (call.IsSet)
            {
                call.Finish(status is not (StatusCode.Internal or StatusCode.Unavailable or StatusCode.Unknown or StatusCode.DataLoss));
            }

            if (reservation != 0)
            {
                services.Bodies.Release(reservation);
                services.Unanswered.CountIfCut(ctx, services.Engine.IsStopping);
            }

            HostMetrics.RecordGrpcResponse(counted, (int)status);
        }
    }

    private static long NowMicroseconds() => System.Diagnostics.Stopwatch.GetTimestamp() / (System.Diagnostics.Stopwatch.Frequency / 1_000_000);

    /// <summary>The client's deadline (<see cref="NowMicroseconds"/>; 0: none) as a Stopwatch timestamp; one too far to represent (grpc-go's "no deadline", 2562047H) is none.</summary>
    private static long DeadlineTimestamp(long deadlineUs)
    {
        long perUs = System.Diagnostics.Stopwatch.Frequency / 1_000_000;
        return deadlineUs <= 0 || deadlineUs > long.MaxValue / perUs ? 0 : deadlineUs * perUs;
    }

    /// <summary>The compression, the client's deadline (<paramref name="deadlineUs"/>, in <see cref="NowMicroseconds"/>; 0: none), readiness.</summary>
    private static Refusal? CheckHeaders(HttpContext ctx, InferenceEngine engine, out long deadlineUs)
    {
        deadlineUs = 0;
        var headers = ctx.Request.Headers;
        if (headers["grpc-encoding"] is { Count: > 0 } encoding && encoding.ToString() != "identity")
        {
            // The client may compress only with what this says; compressed tensors would cost a copy anyway.
            ctx.Response.Headers["grpc-accept-encoding"] = "identity";
            return new Refusal(StatusCodes.Status501NotImplemented, $"grpc-encoding {ClientText.Quoted(encoding.ToString())} is not supported: send messages uncompressed (identity)");
        }

        if (GrpcTimeout.TryParse(headers[GrpcTimeout.Header], out long timeoutUs))
        {
            deadlineUs = NowMicroseconds() + timeoutUs;
        }

        if (!engine.IsReady)
        {
            return new Refusal(StatusCodes.Status503ServiceUnavailable, engine.IsStopping ? "the server is shutting down" : "the server is not ready: models are loading");
        }

        return null;
    }

    /// <summary>Whether <paramref name="bytes"/> are in (or the body ended); if neither, the pipe is asked for more, nothing consumed.</summary>
    private static bool ReadEnough(PipeReader reader, in ReadResult read, long bytes)
    {
        if (read.IsCompleted || read.Buffer.Length >= bytes)
        {
            return true;
        }

        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        return false;
    }

    /// <summary>The message's prefix: not compressed, and no longer than the limit.</summary>
    private static Refusal? CheckPrefix(ReadOnlySequence<byte> body, long limit, out long length)
    {
        length = 0;
        if (body.Length < PrefixBytes)
        {
            return body.IsEmpty ? BadMessage("the call carries no message") : BadMessage($"the body ends inside gRPC's 5-byte message prefix ({body.Length} bytes)");
        }

        Span<byte> prefix = stackalloc byte[PrefixBytes];
        body.Slice(0, PrefixBytes).CopyTo(prefix);
        if (prefix[0] != 0)
        {
            return new Refusal(StatusCodes.Status501NotImplemented, prefix[0] == 1 ? "compressed messages are not supported: send them uncompressed (grpc-encoding identity)" : $"the message prefix's flag is {prefix[0]}, not 0 or 1");
        }

        length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        return length <= limit ? null : TooLarge(length, limit);
    }

    /// <summary>The body holds the message exactly: one message per unary call.</summary>
    private static Refusal? CheckLength(in ReadResult read, long length)
    {
        long body = read.Buffer.Length - PrefixBytes;
        if (body < length)
        {
            return BadMessage($"the body ends after {body} of the message's {length} bytes");
        }

        return body > length ? BadMessage("the call carries more than one message; ModelInfer takes one (use ModelStreamInfer for many)") : null;
    }

    /// <summary>The model and version the message names, as strings (kept ones for served names).</summary>
    private static Refusal? Target(ReadOnlySequence<byte> message, NameCache names, out string? name, out string? version)
    {
        (name, version) = (null, null);
        try
        {
            GrpcRequestDecoder.ReadTarget(message, out var model, out var v);
            name = names.Get(model);
            version = names.Get(v);
            return name is null ? BadMessage("model_name is required") : null;
        }
        catch (InferenceException e)
        {
            return Refusal.Of(e.Status, e.Message);
        }
    }

    /// <summary>The rate limits, then the route (a reference on the version until <see cref="Routed.Release"/>), as the REST endpoint's.</summary>
    private static Refusal? Admit(HttpContext ctx, GrpcServices services, string name, string? version, out Routed routed, out bool isRouted, out BackendCall call, out string counted)
    {
        (routed, isRouted, call, counted) = (default, false, default, Unknown);
        if (services.RateLimits.Enabled && services.RateLimits.Acquire(Access.ClientOf(ctx), name) is { } limited)
        {
            return limited;
        }

        var status = GatewayRoute.Route(ctx, services.Gateway, services.Engine, name, version, out routed, out call, out string? error, RemoteFace.Grpc);
        if (status != InferenceStatus.Ok)
        {
            counted = status != InferenceStatus.NotFound && services.Engine.TryGetModel(name, out var served) ? served.Name : Unknown;
            return new Refusal(HttpStatus.Of(status), error!);
        }

        if (call.IsRemote)
        {
            // Counted under the alias: a name of the alias file, as bounded as the models'.
            counted = name;
            return null;
        }

        (isRouted, counted) = (true, routed.Version.Config.Name);
        services.Names.Remember(counted);
        if (version is not null)
        {
            services.Names.Remember(version);
        }

        return null;
    }

    /// <summary>Decodes the message into the request and submits it (or answers it with the route's fixed answer).</summary>
    private static Refusal? Submit(InferenceRequest request, Routed routed, ReadOnlySequence<byte> message, long deadlineUs, FeatureJoiner? joiner, out ValueTask<bool> completion, out JoinResult joined, out ValueTask<JoinResult>? pendingJoin)
    {
        (completion, joined, pendingJoin) = (default, default, null);
        try
        {
            GrpcRequestDecoder.Decode(message, request);
            if (deadlineUs != 0)
            {
                long left = deadlineUs - NowMicroseconds();
                if (left <= 0)
                {
                    return new Refusal(StatusCodes.Status504GatewayTimeout, "the call's deadline passed before it reached the queue");
                }

                request.DeadlineMicroseconds = left;
            }

            pendingJoin = JoinStep.Start(joiner, routed, request, out joined);
            if (pendingJoin is not null)
            {
                return null;
            }

            completion = Submission.Start(request, routed, pollWhenAlone: true);

            return null;
        }
        catch (InferenceException e)
        {
            return Refusal.Of(e.Status, e.Message);
        }
    }

    /// <summary>The engine's timing: on the span, and as the <c>server-timing</c> trailer's value (null when the request never ran).</summary>
    private static string? Timing(System.Diagnostics.Activity? span, InferenceRequest request)
    {
        if (span is not null)
        {
            EngineTracing.RecordRequest(span, request);
        }

        return request.ExecEndUs != 0 ? ServerTimingHeader.For(request) : null;
    }

    /// <summary>The answer: headers, the message straight from the output tensors, then status OK and Server-Timing in trailers.</summary>
    private static void WriteAnswer(HttpResponse response, InferenceRequest request, string? degraded, string? timing, string? featureStatuses)
    {
        response.ContentType = GrpcAnswer.ContentType;
        GrpcResponseEncoder.WriteMessage(response.BodyWriter, request, degraded, featureStatuses);
        GrpcAnswer.Trailers(response, StatusCode.OK, null, timing);
    }

    /// <summary>Ends the call with the refusal's status; Trailers-Only when nothing was sent.</summary>
    private static StatusCode Fail(HttpContext ctx, Refusal refusal, string? timing = null)
    {
        var code = GrpcStatus.FromHttp(refusal.StatusCode);
        GrpcAnswer.Status(ctx.Response, code, refusal.Message, timing, refusal.RetryAfter);

        return code;
    }

    /// <summary>
    /// Gives the message's buffers back to Kestrel. The pipe of a stream its client reset throws
    /// here: the buffers are Kestrel's again either way, and what follows in the call's finally (the
    /// route, the body budget, the count) must still run.
    /// </summary>
    private static void ReturnMessage(PipeReader reader, SequencePosition end)
    {
        try
        {
            reader.AdvanceTo(end);
        }
        catch (IOException)
        {
            // The client reset the stream: nothing to give back to.
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Gone(HttpContext ctx, Exception e, ILogger log)
    {
        ClientFaultLog.Write(log, "grpc inference", StatusCodes.Status499ClientClosedRequest, ClientFault.Gone(e));
        ctx.Abort();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal Failed(InferenceRequest request) =>
        new(HttpStatus.Of(request.Status), request.Error!, RetryAfter: request.Status == InferenceStatus.Rejected ? "1" : null);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal BadMessage(string problem) => new(StatusCodes.Status400BadRequest, $"malformed {GrpcRequestDecoder.MessageName}: {problem}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal TooLarge(long bytes, long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"the message of {bytes} bytes exceeds the limit of {limit} bytes (LowLatency:MaxRequestBodyBytes)");

    /// <summary>The body budget is full: RESOURCE_EXHAUSTED, to be retried (REST answers 503).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal BudgetFull(long bytes, long budget) =>
        new(StatusCodes.Status429TooManyRequests, InferenceEndpoint.BudgetFull(bytes, budget).Message, RetryAfter: "1");
}
