using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Protocol;
using LowLatency.Join;
using Microsoft.Extensions.Primitives;

namespace LowLatency.Host.Endpoints;

/// <summary>The inference route's steps from the decoded body on: submit, the engine's outcome, the answer written.</summary>
internal static partial class InferenceEndpoint
{
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

    /// <summary>Submits a request once its feature join is done, unless it was refused; refused, or the join thrown, the body goes back to Kestrel.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(Refusal? Refusal, JoinResult Joined, ValueTask<bool> Completion)> SubmitJoinedAsync(InferenceRequest request, Routed routed, PipeReader reader, ReadOnlySequence<byte> body, ValueTask<JoinResult> join)
    {
        Refusal? refusal = null;
        JoinResult joined = default;
        var completion = default(ValueTask<bool>);
        bool submitted = false;
        try
        {
            (refusal, joined) = await JoinStep.JoinedAsync(join);
            refusal ??= JoinStep.Submit(request, routed, pollWhenAlone: true, out completion);
            submitted = refusal is null;
        }
        finally
        {
            // Not submitted (refused, or thrown): the body is not borrowed any more.
            if (!submitted)
            {
                reader.AdvanceTo(body.End);
            }
        }

        return (refusal, joined, completion);
    }

    /// <summary>The request's span, <c>infer {model}</c>, its context on the request so that the batch's span links to it (every face).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static System.Diagnostics.Activity? StartSpan(InferenceRequest request, ModelVersion model)
    {
        var span = EngineTracing.Source.StartActivity("infer " + model.Config.Name);
        if (span is not null)
        {
            request.TraceContext = span.Context;
        }

        return span;
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

    /// <summary>
    /// A request the engine did not answer with outputs: its error, a full queue (429) saying when to
    /// retry; or null when the engine cancelled it because its client went away, counted as 499 and
    /// logged as any client gone, never answered.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Refusal? Unanswerable(HttpContext ctx, InferenceRequest request, ILogger log)
    {
        if (request.Status != InferenceStatus.Cancelled)
        {
            return new(HttpStatus.Of(request.Status), request.Error!, RetryAfter: request.Status == InferenceStatus.Rejected ? "1" : null);
        }

        ctx.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
        ClientFaultLog.Write(log, "inference", StatusCodes.Status499ClientClosedRequest, request.Error!);
        return null;
    }

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
}
