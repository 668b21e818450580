using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;
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
        // Resolved once per server, not per request: the request's service scope is made on its
        // first use, and nothing else on this route asks for it (two objects and a dictionary a request).
        var services = new Services(
            app.Services.GetRequiredService<InferenceEngine>(),
            app.Services.GetRequiredService<ServerOptions>(),
            app.Services.GetRequiredService<RateLimits>(),
            app.Services.GetRequiredService<AccessOptions>());
        app.MapPost("/v2/models/{name}/infer", (HttpContext ctx, string name) => InferAsync(ctx, services, name, null));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (HttpContext ctx, string name, string version) => InferAsync(ctx, services, name, version));
    }

    /// <summary>
    /// The whole request in one async method: an async method awaiting another gets a state-machine
    /// box of its own when the inner one goes asynchronous, which awaiting the engine always does —
    /// three nested methods cost ~400 B a request, a quarter of what the server allocated (measured,
    /// perf/results/README.md). The steps that do not wait are helpers; a refusal returns early.
    /// </summary>
    private static async Task InferAsync(HttpContext ctx, Services services, string name, string? version)
    {
        // The model the response is counted under: "unknown" until it is resolved, and when the
        // request ends in an exception (a client gone mid-body, say).
        string counted = "unknown";
        Routed routed = default;
        bool isRouted = false;
        try
        {
            if (!WireFormats.TryFromContentType(ctx.Request.ContentType, out var requestFormat))
            {
                await ErrorResponse.WriteAsync(ctx, WireFormat.Json, StatusCodes.Status415UnsupportedMediaType,
                    $"unsupported Content-Type '{ctx.Request.ContentType}'; use {WireFormats.JsonType}, {WireFormats.MsgPackType}, or {BinaryTensorData.ContentType} (JSON followed by binary tensors)");
                return;
            }

            var responseFormat = WireFormats.FromAccept(ctx.Request.Headers.Accept, requestFormat);
            if (ctx.Request.Headers.ContentEncoding is { Count: > 0 } encoding && !IsIdentity(encoding))
            {
                // tritonclient can gzip or deflate its bodies: decoded as they are, they were
                // "malformed JSON" at their first byte, which named nothing.
                await ErrorResponse.WriteAsync(ctx, responseFormat, StatusCodes.Status415UnsupportedMediaType,
                    $"Content-Encoding '{encoding}' is not supported: send the body uncompressed");
                return;
            }

            var engine = services.Engine;
            if (!engine.IsReady)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, StatusCodes.Status503ServiceUnavailable,
                    engine.IsStopping ? "the server is shutting down" : "the server is not ready: models are loading");
                return;
            }

            var refusal = await Access.InferAsync(ctx, services.Access, name);
            if (!refusal.Refused && services.RateLimits.Enabled)
            {
                refusal = services.RateLimits.Acquire(Access.ClientOf(ctx), name);
            }

            if (refusal.Refused)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, refusal);
                return;
            }

            var routingKey = ctx.Request.Headers[RoutingKeyHeader];
            var routeStatus = engine.Route(name, version, routingKey.Count > 0 ? routingKey[0] : null, out routed, out string? routeError);
            if (routeStatus != InferenceStatus.Ok)
            {
                if (routeStatus == InferenceStatus.Unavailable)
                {
                    ctx.Response.Headers.RetryAfter = "1";
                }

                counted = routeStatus == InferenceStatus.NotFound ? "unknown" : name;
                await ErrorResponse.WriteAsync(ctx, responseFormat, HttpStatus.Of(routeStatus), routeError!);
                return;
            }

            isRouted = true;
            counted = routed.Version.Config.Name;
            var model = routed.Version;
            var limits = services.Limits;
            if (ctx.Request.ContentLength > limits.MaxRequestBodyBytes)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, StatusCodes.Status413PayloadTooLarge, TooLarge(ctx.Request.ContentLength.Value, limits));
                return;
            }

            var reader = ctx.Request.BodyReader;
            var read = await ReadBodyAsync(reader, limits.MaxRequestBodyBytes, ctx.RequestAborted);
            if (read.Buffer.Length > limits.MaxRequestBodyBytes)
            {
                // Measured before the buffer goes back to Kestrel, which recycles its segments.
                string tooLarge = TooLarge(read.Buffer.Length, limits);
                reader.AdvanceTo(read.Buffer.End);
                await ErrorResponse.WriteAsync(ctx, responseFormat, StatusCodes.Status413PayloadTooLarge, tooLarge);
                return;
            }

            // Disposed at the end of this block, before the route is released below.
            using var request = model.RentRequest();
            // Tracing off (no listener): one check. On: the request's span, parent of its queue and execute spans.
            using var span = LowLatency.Engine.Diagnostics.EngineTracing.Enabled ? StartSpan(request, model) : null;
            bool submitted = false;
            ValueTask<bool> completion;
            InferenceException? rejected;
            BinaryOutputs binaryOutputs;
            try
            {
                submitted = Submit(request, routed, requestFormat, read.Buffer, ctx.Request.Headers[BinaryTensorData.HeaderName], out completion, out rejected, out binaryOutputs);
            }
            finally
            {
                if (!submitted)
                {
                    reader.AdvanceTo(read.Buffer.End);
                }
            }

            if (!submitted)
            {
                await ErrorResponse.WriteAsync(ctx, responseFormat, HttpStatus.Of(rejected!.Status), rejected.Message);
                return;
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
                EngineTracing.RecordRequest(span, request);
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

                await ErrorResponse.WriteAsync(ctx, responseFormat, HttpStatus.Of(request.Status), request.Error!);
                return;
            }

            if (routed.Degraded is not null)
            {
                ctx.Response.Headers[DegradedHeader] = routed.Kind == RouteKind.FallbackModel ? "fallback-model" : "fallback-response";
            }

            ctx.Response.ContentType = WireFormats.ContentType(responseFormat);
            if (responseFormat == WireFormat.MsgPack)
            {
                // Sized before the first byte reaches the body (which starts the response), so the
                // tensor bytes go from the batch's output straight into the response.
                ctx.Response.ContentLength = ResponseWriter.MsgPackLength(request, routed.Degraded);
                ResponseWriter.WriteInference(ctx.Response.BodyWriter, responseFormat, request, routed.Degraded);
            }
            else
            {
                // JSON's length is known only once its numbers are formatted. Outputs asked for as
                // binary data follow it straight from the batch's output tensors.
                var buffer = ResponseBuffer.ForThisThread();
                ResponseWriter.WriteInference(buffer, responseFormat, request, routed.Degraded, binaryOutputs);
                long binaryBytes = ResponseWriter.BinaryLength(request, binaryOutputs);
                if (binaryBytes > 0)
                {
                    ctx.Response.ContentType = BinaryTensorData.ContentType;
                    ctx.Response.Headers[BinaryTensorData.HeaderName] = buffer.WrittenCount.ToString(CultureInfo.InvariantCulture);
                }

                ResponseBuffer.Send(ctx.Response, buffer, binaryBytes);
                if (binaryBytes > 0)
                {
                    ResponseWriter.WriteBinaryTensors(ctx.Response.BodyWriter, request, binaryOutputs);
                }
            }

            // The outputs are in the response's buffers now: let go of the batch's output tensors before
            // the flush, which may wait on a slow client.
            request.ReleaseOutputs();
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
        }
        catch
        {
            counted = "unknown";
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

            Diagnostics.HostMetrics.RecordResponse(counted, ctx.Response.StatusCode);
        }
    }

    /// <summary>Decodes the body into the request and submits it (or answers it with the route's fixed answer); false with the refusal when the input is bad.</summary>
    private static bool Submit(InferenceRequest request, Routed routed, WireFormat format, ReadOnlySequence<byte> body, Microsoft.Extensions.Primitives.StringValues jsonLengthHeader, out ValueTask<bool> completion, out InferenceException? rejected, out BinaryOutputs binaryOutputs)
    {
        binaryOutputs = default;
        try
        {
            binaryOutputs = Decode(format, body, request, jsonLengthHeader);
            if (routed.FixedAnswer is { } fixedAnswer)
            {
                fixedAnswer.AnswerWith(request);
                completion = new ValueTask<bool>(true);
            }
            else
            {
                // One request, awaited at once: alone in flight, the engine may spin for its answer here.
                completion = routed.Version.InferAsync(request, pollWhenAlone: true);
            }

            rejected = null;
            return true;
        }
        catch (InferenceException e)
        {
            completion = default;
            rejected = e;
            return false;
        }
    }

    private static bool IsIdentity(Microsoft.Extensions.Primitives.StringValues encoding)
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

    /// <summary>The singletons the route uses, resolved once.</summary>
    private sealed record Services(InferenceEngine Engine, ServerOptions Limits, RateLimits RateLimits, AccessOptions Access);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static System.Diagnostics.Activity? StartSpan(InferenceRequest request, ModelVersion model)
    {
        var span = EngineTracing.Source.StartActivity("infer " + model.Config.Name);
        if (span is not null)
        {
            request.TraceContext = span.Context;
        }

        return span;
    }

    /// <param name="jsonLengthHeader">The Inference-Header-Content-Length header (JSON followed by binary tensors), if any.</param>
    /// <returns>The outputs a JSON request asked for as binary data.</returns>
    internal static BinaryOutputs Decode(WireFormat format, ReadOnlySequence<byte> body, InferenceRequest request, Microsoft.Extensions.Primitives.StringValues jsonLengthHeader = default)
    {
        try
        {
            if (format == WireFormat.MsgPack)
            {
                if (jsonLengthHeader.Count > 0)
                {
                    BadInput.Throw($"{BinaryTensorData.HeaderName} belongs to JSON bodies (Triton's binary tensor data); a MessagePack body carries its tensors as bytes already");
                }

                MsgPackRequestDecoder.Decode(body, request);
                return default;
            }

            return JsonRequestDecoder.Decode(body, request, BinaryTensorData.JsonLength(jsonLengthHeader, body.Length));
        }
        catch (JsonException e)
        {
            return BadInput.Throw<BinaryOutputs>($"malformed JSON body: {e.Message}");
        }
        // MessagePack's reader throws ArgumentOutOfRangeException for a bin or str longer than the
        // body (found by the fuzz test: a truncated tensor gave a 500).
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return BadInput.Throw<BinaryOutputs>($"malformed {(format == WireFormat.MsgPack ? "MessagePack" : "JSON")} body: {e.Message}");
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

    private static string TooLarge(long bytes, ServerOptions limits) =>
        $"request body of {bytes} bytes exceeds the limit of {limits.MaxRequestBodyBytes} bytes (LowLatency:MaxRequestBodyBytes)";
}
