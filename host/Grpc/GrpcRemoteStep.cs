using System.Buffers;
using Grpc.Core;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Protocol;
using BodyLease = LowLatency.Client.BodyLease;

namespace LowLatency.Host.Grpc;

/// <summary>
/// A <c>ModelInfer</c> call an alias sent to a remote backend with a <c>grpc_url</c>: the message
/// forwarded as its client encoded it (the backend's model and version set by fields appended to it),
/// with the routing key and the trace context, and the backend's answer written back as it came:
/// its message, or its status and message. The retry policy is the gateway's (<see cref="RemoteForward"/>);
/// when it lands on a local backend, the call goes on as any local one.
/// </summary>
internal static class GrpcRemoteStep
{
    /// <summary>How the forward ended: a local backend to run the call on, or the call's status once answered.</summary>
    internal readonly record struct Forwarded(RemoteStep.Local? Local, StatusCode Status);

    /// <summary>
    /// Forwards <paramref name="message"/> (held by the caller until this returns, when no attempt reads
    /// it any more: <see cref="ForwardedBody"/>) within the call's deadline (<paramref name="deadlineTimestamp"/>,
    /// a Stopwatch timestamp; 0: none).
    /// </summary>
    public static async Task<Forwarded> RunAsync(HttpContext ctx, InferenceEngine engine, BackendCall call, ReadOnlySequence<byte> message, long deadlineTimestamp)
    {
        var lease = new BodyLease();
        var forwarded = default(Forwarded);
        bool answered = false;
        try
        {
            var request = new ForwardRequest(message, lease, GrpcAnswer.ContentType, null, RemoteStep.Headers(ctx.Request), RemoteStep.RoutingKey(ctx.Request), call.StartedTimestamp, RemoteFace.Grpc, deadlineTimestamp);
            var outcome = await RemoteForward.RunAsync(engine, call, request, ctx.RequestAborted);
            forwarded = Answer(ctx.Response, outcome);
            answered = forwarded.Local is null && forwarded.Status != StatusCode.Cancelled;
        }
        finally
        {
            // A call's status goes out as the handler returns: ended here first when an attempt still reads the message.
            await ForwardedBody.TakeBackAsync(ctx, lease, answered);
        }

        return forwarded;
    }

    private static Forwarded Answer(HttpResponse response, ForwardOutcome outcome)
    {
        if (outcome.IsLocal)
        {
            response.Headers[GatewayRoute.BackendHeader] = outcome.Call.BackendName;
            return new(new RemoteStep.Local(outcome.Routed, outcome.Call), StatusCode.OK);
        }

        if (outcome.Answer is { } answer)
        {
            using (answer)
            {
                response.Headers[GatewayRoute.BackendHeader] = outcome.Call.BackendName;
                if (answer.GrpcStatus is { } code && code != (int)StatusCode.OK)
                {
                    // The backend's own refusal (a client's mistake: the retry policy passes it on as the answer).
                    GrpcAnswer.Status(response, (StatusCode)code, answer.GrpcMessage);
                    return new(null, (StatusCode)code);
                }

                response.ContentType = GrpcAnswer.ContentType;
                ProtoWriter.WriteMessagePrefix(response.BodyWriter, answer.Length);
                response.BodyWriter.Write(answer.Body.Span);
                GrpcAnswer.Trailers(response, StatusCode.OK, null, null);
                return new(null, StatusCode.OK);
            }
        }

        if (outcome.Status == InferenceStatus.Cancelled)
        {
            // Its client is gone: nothing to answer.
            return new(null, StatusCode.Cancelled);
        }

        response.Headers.Remove(GatewayRoute.BackendHeader);
        var failed = GrpcStatus.FromHttp(HttpStatus.Of(outcome.Status));
        GrpcAnswer.Status(response, failed, outcome.Error);
        return new(null, failed);
    }
}
