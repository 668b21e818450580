using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Protocol;
using BodyLease = LowLatency.Client.BodyLease;
using ForwardedAnswer = LowLatency.Client.ForwardedAnswer;

namespace LowLatency.Host.Endpoints;

/// <summary>
/// A request an alias sent to a remote backend, once its body is read: the body forwarded as its
/// client encoded it (no decode, no re-encode), with the routing key and the trace context, and the
/// backend's answer written back as it came, its model_name and model_version the remote's. The retry
/// policy is the gateway's (<see cref="RemoteForward"/>); when it lands on a local backend, the
/// request goes on as any local one.
/// </summary>
internal static class RemoteStep
{
    /// <summary>Where a retry sent the request: a local backend to run it on.</summary>
    internal sealed record Local(Routed Routed, BackendCall Call);

    /// <summary>
    /// Forwards; returns null when the request is over (answered, refused, or its client gone), the body
    /// given back to Kestrel; else the local backend to run it on, the body still held. Either way no
    /// attempt reads the body any more once this returns (<see cref="ForwardedBody"/>).
    /// </summary>
    public static async Task<Local?> RunAsync(HttpContext ctx, InferenceEngine engine, BackendCall call, PipeReader reader, ReadOnlySequence<byte> body, WireFormat responseFormat)
    {
        var lease = new BodyLease();
        Local? local = null;
        bool answered = false;
        try
        {
            var request = new ForwardRequest(body, lease, ctx.Request.ContentType ?? WireFormats.JsonType, JsonLength(ctx.Request), Headers(ctx.Request), RoutingKey(ctx.Request), call.StartedTimestamp);
            var outcome = await RemoteForward.RunAsync(engine, call, request, ctx.RequestAborted);
            if (outcome.IsLocal)
            {
                ctx.Response.Headers[GatewayRoute.BackendHeader] = outcome.Call.BackendName;
                local = new Local(outcome.Routed, outcome.Call);
            }
            else if (outcome.Answer is { } answer)
            {
                using (answer)
                {
                    Head(ctx.Response, outcome.Call, answer);
                    await ctx.Response.BodyWriter.WriteAsync(answer.Body, ctx.RequestAborted);
                }

                answered = true;
            }
            else if (outcome.Status == InferenceStatus.Cancelled)
            {
                // Its client is gone: nothing to write to, counted as such.
                ctx.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            }
            else
            {
                ctx.Response.Headers.Remove(GatewayRoute.BackendHeader);
                await ErrorResponse.WriteAsync(ctx, responseFormat, new Refusal(HttpStatus.Of(outcome.Status), outcome.Error!, RetryAfter: outcome.Status == InferenceStatus.Unavailable ? "1" : null));
                answered = true;
            }
        }
        finally
        {
            // After the answer, before the buffers go back: an attempt still writing the body holds them.
            await ForwardedBody.TakeBackAsync(ctx, lease, answered);
            if (local is null)
            {
                reader.AdvanceTo(body.End);
            }
        }

        return local;
    }

    /// <summary>The remote's status and headers as it sent them, and the backend that answered.</summary>
    private static void Head(HttpResponse response, BackendCall call, ForwardedAnswer answer)
    {
        response.StatusCode = answer.StatusCode;
        response.Headers[GatewayRoute.BackendHeader] = call.BackendName;
        if (answer.ContentType is { } type)
        {
            response.ContentType = type;
        }

        if (answer.JsonLength is { } json)
        {
            response.Headers[BinaryTensorData.HeaderName] = json;
        }

        if (answer.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        response.ContentLength = answer.Length;
    }

    private static string? JsonLength(HttpRequest request) =>
        request.Headers[BinaryTensorData.HeaderName] is { Count: > 0 } v ? v[0] : null;

    internal static string? RoutingKey(HttpRequest request) =>
        request.Headers[InferenceEndpoint.RoutingKeyHeader] is { Count: > 0 } v ? v[0] : null;

    /// <summary>
    /// What the backend is told besides the body: the routing key (so the backend's own version split
    /// follows it too) and the trace context, the client's or, when this server traces the request,
    /// its own span's.
    /// </summary>
    internal static KeyValuePair<string, string>[] Headers(HttpRequest request)
    {
        var list = new List<KeyValuePair<string, string>>(3);
        if (RoutingKey(request) is { } key)
        {
            list.Add(new(InferenceEndpoint.RoutingKeyHeader, key));
        }

        string? parent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } a ? a.Id : null;
        parent ??= request.Headers[GatewayRoute.TraceParentHeader] is { Count: > 0 } p ? p[0] : null;
        if (parent is not null)
        {
            list.Add(new(GatewayRoute.TraceParentHeader, parent));
            if (request.Headers[GatewayRoute.TraceStateHeader] is { Count: > 0 } s && s[0] is { } state)
            {
                list.Add(new(GatewayRoute.TraceStateHeader, state));
            }
        }

        return [.. list];
    }
}
