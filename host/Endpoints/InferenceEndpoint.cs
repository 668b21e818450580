using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Host.Protocol;
using MessagePack;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// <c>POST /v2/models/{name}[/versions/{version}]/infer</c>: read the body from Kestrel's pipe, decode
/// it into an engine request, await the engine, encode the answer. Nothing else happens here.
/// </summary>
internal static class InferenceEndpoint
{
    /// <summary>A request carrying this header always lands on the same version while the traffic weights are unchanged.</summary>
    public const string RoutingKeyHeader = "X-Routing-Key";

    /// <summary>Set on an answer a fallback gave because no version of the model was healthy.</summary>
    public const string DegradedHeader = "X-LowLatency-Degraded";

    public static void Map(WebApplication app)
    {
        app.MapPost("/v2/models/{name}/infer", (HttpContext ctx, string name) => InferAsync(ctx, name, null));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (HttpContext ctx, string name, string version) => InferAsync(ctx, name, version));
    }

    private static async Task InferAsync(HttpContext ctx, string name, string? version)
    {
        string counted = "unknown";
        try
        {
            counted = await InferCoreAsync(ctx, name, version);
        }
        finally
        {
            Diagnostics.HostMetrics.RecordResponse(counted, ctx.Response.StatusCode);
        }
    }

    /// <summary>Answers the request; returns the model name to count it under ("unknown" until resolved).</summary>
    private static async Task<string> InferCoreAsync(HttpContext ctx, string name, string? version)
    {
        var engine = ctx.RequestServices.GetRequiredService<InferenceEngine>();
        var limits = ctx.RequestServices.GetRequiredService<ServerOptions>();
        if (!WireFormats.TryFromContentType(ctx.Request.ContentType, out var requestFormat))
        {
            await ErrorAsync(ctx, WireFormat.Json, StatusCodes.Status415UnsupportedMediaType,
                $"unsupported Content-Type '{ctx.Request.ContentType}'; use {WireFormats.JsonType} or {WireFormats.MsgPackType}");
            return "unknown";
        }

        var responseFormat = WireFormats.FromAccept(ctx.Request.Headers.Accept, requestFormat);
        if (!engine.IsReady)
        {
            await ErrorAsync(ctx, responseFormat, StatusCodes.Status503ServiceUnavailable,
                engine.IsStopping ? "the server is shutting down" : "the server is not ready: models are loading");
            return "unknown";
        }

        if (!await Security.Access.InferAsync(ctx, name, responseFormat))
        {
            return "unknown";
        }

        var rateLimits = ctx.RequestServices.GetRequiredService<Security.RateLimits>();
        if (rateLimits.Enabled && !rateLimits.TryAcquire(Security.Access.ClientOf(ctx), name, out string? refusal, out var retryAfter))
        {
            await RateLimitedAsync(ctx, responseFormat, refusal!, retryAfter);
            return "unknown";
        }

        var routingKey = ctx.Request.Headers[RoutingKeyHeader];
        var routeStatus = engine.Route(name, version, routingKey.Count > 0 ? routingKey[0] : null, out var routed, out string? routeError);
        if (routeStatus != InferenceStatus.Ok)
        {
            if (routeStatus == InferenceStatus.Unavailable)
            {
                ctx.Response.Headers.RetryAfter = "1";
            }

            await ErrorAsync(ctx, responseFormat, StatusOf(routeStatus), routeError!);
            return routeStatus == InferenceStatus.NotFound ? "unknown" : name;
        }

        try
        {
            await ServeAsync(ctx, routed, requestFormat, responseFormat, limits);
        }
        finally
        {
            // After the request went back to its pool and its outputs were released: a retired
            // version frees its native memory only once its last routed request lets go.
            routed.Release();
        }

        return routed.Version.Config.Name;
    }

    private static async Task ServeAsync(HttpContext ctx, Routed routed, WireFormat requestFormat, WireFormat responseFormat, ServerOptions limits)
    {
        var model = routed.Version;
        if (ctx.Request.ContentLength > limits.MaxRequestBodyBytes)
        {
            await ErrorAsync(ctx, responseFormat, StatusCodes.Status413PayloadTooLarge, TooLarge(ctx.Request.ContentLength.Value, limits));
            return;
        }

        var reader = ctx.Request.BodyReader;
        var read = await ReadBodyAsync(reader, limits.MaxRequestBodyBytes, ctx.RequestAborted);
        if (read.Buffer.Length > limits.MaxRequestBodyBytes)
        {
            reader.AdvanceTo(read.Buffer.End);
            await ErrorAsync(ctx, responseFormat, StatusCodes.Status413PayloadTooLarge, TooLarge(read.Buffer.Length, limits));
            return;
        }

        using var request = model.RentRequest();
        // Tracing off (no listener): one check. On: the request's span, parent of its queue and execute spans.
        using var span = LowLatency.Engine.Diagnostics.EngineTracing.Enabled ? StartSpan(request, model) : null;
        ValueTask<bool> completion = default;
        bool submitted = false;
        try
        {
            Decode(requestFormat, read.Buffer, request);
            if (routed.FixedAnswer is { } fixedAnswer)
            {
                fixedAnswer.AnswerWith(request);
                completion = new ValueTask<bool>(true);
            }
            else
            {
                completion = model.InferAsync(request);
            }

            submitted = true;
        }
        catch (InferenceException e)
        {
            await ErrorAsync(ctx, responseFormat, StatusOf(e.Status), e.Message);
            return;
        }
        finally
        {
            if (!submitted)
            {
                reader.AdvanceTo(read.Buffer.End);
            }
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

        if (span is not null)
        {
            LowLatency.Engine.Diagnostics.EngineTracing.RecordRequest(span, request);
        }

        if (request.ExecEndUs != 0)
        {
            ctx.Response.Headers["Server-Timing"] = ServerTimingHeader.For(request);
        }

        if (!ok)
        {
            if (request.Status == InferenceStatus.Rejected)
            {
                ctx.Response.Headers.RetryAfter = "1";
            }

            await ErrorAsync(ctx, responseFormat, StatusOf(request.Status), request.Error!);
            return;
        }

        if (routed.Degraded is not null)
        {
            ctx.Response.Headers[DegradedHeader] = routed.Kind == LowLatency.Engine.Routing.RouteKind.FallbackModel ? "fallback-model" : "fallback-response";
        }

        ctx.Response.ContentType = WireFormats.ContentType(responseFormat);
        ResponseWriter.WriteInference(ctx.Response.BodyWriter, responseFormat, request, routed.Degraded);
        // The outputs are in the response's buffers now: let go of the batch's output tensors before
        // the flush, which may wait on a slow client.
        request.ReleaseOutputs();
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static System.Diagnostics.Activity? StartSpan(InferenceRequest request, ModelVersion model)
    {
        var span = LowLatency.Engine.Diagnostics.EngineTracing.Source.StartActivity("infer " + model.Config.Name);
        if (span is not null)
        {
            request.TraceContext = span.Context;
        }

        return span;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Task RateLimitedAsync(HttpContext ctx, WireFormat format, string refusal, TimeSpan retryAfter)
    {
        ctx.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return ErrorAsync(ctx, format, StatusCodes.Status429TooManyRequests, refusal);
    }

    internal static void Decode(WireFormat format, ReadOnlySequence<byte> body, InferenceRequest request)
    {
        try
        {
            if (format == WireFormat.MsgPack)
            {
                MsgPackRequestDecoder.Decode(body, request);
            }
            else
            {
                JsonRequestDecoder.Decode(body, request);
            }
        }
        catch (JsonException e)
        {
            BadInput.Throw($"malformed JSON body: {e.Message}");
        }
        // MessagePack's reader throws ArgumentOutOfRangeException for a bin or str longer than the
        // body (found by the fuzz test: a truncated tensor gave a 500).
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            BadInput.Throw($"malformed MessagePack body: {e.Message}");
        }
    }

    /// <summary>Reads until the body is complete or exceeds the limit, without consuming it.</summary>
    private static async ValueTask<ReadResult> ReadBodyAsync(PipeReader reader, long limit, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            if (result.IsCompleted || result.Buffer.Length > limit)
            {
                return result;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    internal static bool Resolve(InferenceEngine engine, string name, string? version, out ModelVersion model, out int status, out string? error)
    {
        model = null!;
        if (!engine.TryGetModel(name, out var served))
        {
            (status, error) = (StatusCodes.Status404NotFound, $"unknown model '{name}'");
            return false;
        }

        if (version is null)
        {
            model = served.Latest;
            (status, error) = (StatusCodes.Status200OK, null);
            return true;
        }

        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v < 1)
        {
            (status, error) = (StatusCodes.Status400BadRequest, $"version '{version}' is not a positive integer");
            return false;
        }

        if (!served.Versions.TryGetValue(v, out model!))
        {
            (status, error) = (StatusCodes.Status404NotFound, $"model '{name}' has no version {v} being served; served: {string.Join(", ", served.Versions.Keys)}");
            return false;
        }

        (status, error) = (StatusCodes.Status200OK, null);
        return true;
    }

    private static string TooLarge(long bytes, ServerOptions limits) =>
        $"request body of {bytes} bytes exceeds the limit of {limits.MaxRequestBodyBytes} bytes (LowLatency:MaxRequestBodyBytes)";

    internal static int StatusOf(InferenceStatus status) => status switch
    {
        InferenceStatus.Rejected => StatusCodes.Status429TooManyRequests,
        InferenceStatus.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        InferenceStatus.BadRequest => StatusCodes.Status400BadRequest,
        InferenceStatus.NotFound => StatusCodes.Status404NotFound,
        InferenceStatus.TooLarge => StatusCodes.Status413PayloadTooLarge,
        InferenceStatus.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    internal static Task ErrorAsync(HttpContext ctx, WireFormat format, int status, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = WireFormats.ContentType(format);
        ResponseWriter.WriteError(ctx.Response.BodyWriter, format, message);
        return ctx.Response.BodyWriter.FlushAsync().AsTask();
    }
}
