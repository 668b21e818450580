using System.Buffers;
using Grpc.Core;
using LowLatency.Engine.Config;
using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Gateway.Routing;
using LowLatency.Host.Diagnostics;
using LowLatency.Host.Endpoints;
using LowLatency.Host.Protocol;
using LowLatency.Host.Security;
using LowLatency.Join;

namespace LowLatency.Host.Grpc;

/// <summary>
/// <c>ModelStreamInfer</c>: many requests on one bidirectional stream, each admitted and scheduled as
/// if it came alone (all in flight at once, so they batch), each answered as it completes, with its
/// id. An error answers its request in-band (<c>error_message</c>) and the stream goes on, Triton's
/// default; with the request header <c>triton_grpc_error: true</c> the first error ends the stream
/// with its status (Triton 24.09's), once the requests in flight are answered. When shutdown begins,
/// the stream stops taking requests, answers those in flight, and ends UNAVAILABLE. A request that
/// names an alias is routed through it as a <c>ModelInfer</c> call is (rules on its message, a remote
/// backend's <c>grpc_url</c> called once per request); its answer names its model, not its backend
/// (the stream's one set of headers cannot).
/// </summary>
internal sealed class GrpcStreamInfer(GrpcServices services, IHostApplicationLifetime lifetime)
{
    /// <summary>The RPC with this server's marshallers: requests copied once, within the body budget (<see cref="StreamRequest"/>), answers written from the output tensors.</summary>
    public Method<StreamRequest, StreamResponse> Method { get; } = new(
        MethodType.DuplexStreaming,
        "inference.GRPCInferenceService",
        "ModelStreamInfer",
        Marshallers.Create<StreamRequest>(static (_, _) => throw new NotSupportedException("the server does not send requests"), c => StreamRequest.Receive(c.PayloadAsReadOnlySequence(), services.Bodies)),
        Marshallers.Create<StreamResponse>(Serialize, static _ => throw new NotSupportedException("the server does not read answers")));

    private const string ErrorHeader = "triton_grpc_error";
    private const string Unknown = "unknown";

    public async Task RunAsync(IAsyncStreamReader<StreamRequest> requests, IServerStreamWriter<StreamResponse> responses, ServerCallContext call)
    {
        var ctx = call.GetHttpContext();
        if (await Access.AuthenticateAsync(ctx, services.Access) is { } unauthenticated)
        {
            throw GrpcStatus.Exception(unauthenticated);
        }

        var stream = new State(responses, ctx.Request.Headers[ErrorHeader].ToString().Equals("true", StringComparison.OrdinalIgnoreCase));
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(call.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            while (!services.Engine.IsStopping && !stream.Ended && await requests.MoveNext(stopping.Token))
            {
                stream.Begin();
                _ = AnswerAsync(requests.Current, stream, ctx, call);
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !call.CancellationToken.IsCancellationRequested)
        {
            // Shutdown: no more requests; those in flight are answered below.
        }
        finally
        {
            // Whatever ended the loop (the client gone too), the call outlives its requests in flight:
            // they use its HttpContext, which Kestrel reuses once the call returns.
            await stream.AllAnsweredAsync();
        }
        if (stream.FirstError is { } error)
        {
            throw new RpcException(error);
        }

        if (services.Engine.IsStopping)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down: the stream ends after the requests in flight were answered"));
        }
    }

    /// <summary>One request of the stream, from its message to its answer; never throws (an error is its answer).</summary>
    private async Task AnswerAsync(StreamRequest message, State stream, HttpContext ctx, ServerCallContext call)
    {
        string counted = Unknown;
        var status = StatusCode.OK;
        Routed routed = default;
        bool isRouted = false;
        BackendCall backend = default;
        string? model = null, id = null;
        try
        {
            var refusal = message.OverBudget
                ? new Refusal(StatusCodes.Status429TooManyRequests, InferenceEndpoint.BudgetFull(message.Length, services.Bodies.Limit).Message)
                : null;
            string? version = null;
            if (refusal is null && !services.Engine.IsReady)
            {
                // As ModelInfer's: while models load no model is found yet, and "unknown model" would
                // tell the client not to retry.
                refusal = new Refusal(StatusCodes.Status503ServiceUnavailable, services.Engine.IsStopping ? "the server is shutting down" : "the server is not ready: models are loading");
            }

            if (refusal is null)
            {
                refusal = Target(message.Message, out model, out version, out id);
            }

            if (refusal is null)
            {
                refusal = Access.InferScope(ctx, services.Access, model!);
            }

            if (refusal is null && services.RateLimits.Enabled)
            {
                refusal = services.RateLimits.Acquire(Access.ClientOf(ctx), model!);
            }

            if (refusal is null)
            {
                var routeStatus = GatewayRoute.Route(ctx, services.Gateway, services.Engine, model!, version, out routed, out backend, out string? error, RemoteFace.Grpc, nameBackend: false);
                if (routeStatus != InferenceStatus.Ok)
                {
                    counted = routeStatus != InferenceStatus.NotFound && services.Engine.TryGetModel(model!, out var served) ? served.Name : Unknown;
                    refusal = Refusal.Of(routeStatus, error!);
                }
                else if (backend.IsRemote)
                {
                    // Counted under the alias: a name of the alias file, as bounded as the models'.
                    counted = model!;
                }
                else
                {
                    (isRouted, counted) = (true, routed.Version.Config.Name);
                    // As ModelInfer: the served names kept, so that the next request's are not allocated.
                    services.Names.Remember(counted);
                    if (version is not null)
                    {
                        services.Names.Remember(version);
                    }
                }

            }

            if (refusal is not null)
            {
                status = await stream.FailAsync(refusal, model, id);
                return;
            }

            if (backend.RulesPending)
            {
                RuleStep.Apply(ctx, services.Engine, GrpcRuleScan.Matches(backend.Router.Definition.Rules, message.Message), RemoteFace.Grpc, ref routed, ref isRouted, ref backend, ref counted, nameBackend: false);
            }

            if (backend.IsRemote)
            {
                // An alias's remote backend: the request forwarded as one ModelInfer call, its answer
                // sent on the stream as it came; a retry that lands on a local backend goes on below.
                var forward = new ForwardRequest(message.Message, message.Lend(), GrpcAnswer.ContentType, null, RemoteStep.Headers(ctx.Request), RemoteStep.RoutingKey(ctx.Request), backend.StartedTimestamp, RemoteFace.Grpc, DeadlineTimestamp(call.Deadline));
                // The forward finishes the backend's call itself: not again at the end, even if it throws.
                var remote = backend;
                backend = default;
                var outcome = await RemoteForward.RunAsync(services.Engine, remote, forward, call.CancellationToken);
                if (outcome.Answer is { } answer)
                {
                    using (answer)
                    {
                        if (answer.GrpcStatus is { } code && code != (int)StatusCode.OK)
                        {
                            status = await stream.FailAsync(new Refusal(answer.StatusCode, answer.GrpcMessage ?? $"gRPC status {code}"), model, id);
                            return;
                        }

                        await stream.WriteAsync(StreamResponse.Remote(answer));
                        return;
                    }
                }

                if (!outcome.IsLocal)
                {
                    status = outcome.Status == InferenceStatus.Cancelled ? StatusCode.Cancelled : await stream.FailAsync(Refusal.Of(outcome.Status, outcome.Error!), model, id);
                    return;
                }

                (routed, backend, isRouted, counted) = (outcome.Routed, outcome.Call, true, outcome.Routed.Version.Config.Name);
            }

            using var request = routed.Version.RentRequest();
            // Each request of the stream is traced as a ModelInfer call: its own span, with the same
            // name and tags, ended once its answer is written (the end of this block).
            using var span = EngineTracing.Enabled ? InferenceEndpoint.StartSpan(request, routed.Version) : null;
            refusal = Submit(request, routed, message.Message, call.Deadline, services.Joiner, out var completion, out var joined, out var pendingJoin);
            if (refusal is null && pendingJoin is not null)
            {
                // A feature join that waits for the store (a near-cache miss).
                (refusal, joined) = await JoinStep.JoinedAsync(pendingJoin.Value);
                refusal ??= JoinStep.Submit(request, routed, pollWhenAlone: false, out completion);
            }

            if (refusal is null)
            {
                if (!completion.IsCompleted)
                {
                    // A cancelled stream takes its requests out of the queue (CancelWhen, as ModelInfer).
                    request.CancelWhen(call.CancellationToken);
                }

                bool ok = await completion;
                if (span is not null)
                {
                    EngineTracing.RecordRequest(span, request);
                }

                if (!ok)
                {
                    refusal = new Refusal(HttpStatus.Of(request.Status), request.Error!);
                }
            }

            if (refusal is not null)
            {
                status = await stream.FailAsync(refusal, model, id ?? request.Id);
                return;
            }

            await stream.WriteAsync(StreamResponse.Answer(request, routed.Degraded, joined.Statuses));
        }
        catch (Exception e) when (ClientFault.Is(e) || e is InvalidOperationException)
        {
            // The stream is gone (the client left, or the call ended): nothing more can be answered.
            // A client fault as the unary call's: at most a Debug line.
            status = StatusCode.Cancelled;
            ClientFaultLog.Write(services.ClientFaults, "grpc stream inference", StatusCodes.Status499ClientClosedRequest, ClientFault.Gone(e));
        }

        finally
        {
            if (isRouted)
            {
                routed.Release();
            }

            if (backend.IsSet)
            {
                backend.Finish(status is not (StatusCode.Internal or StatusCode.Unavailable or StatusCode.Unknown or StatusCode.DataLoss));
            }

            message.Dispose();

            HostMetrics.RecordGrpcResponse(counted, (int)status);
            stream.End();
        }
    }

    /// <summary>The stream's deadline as a Stopwatch timestamp (0: none), for a forward to a remote backend.</summary>
    private static long DeadlineTimestamp(DateTime deadline) =>
        deadline == DateTime.MaxValue ? 0
        : System.Diagnostics.Stopwatch.GetTimestamp() + (long)(Math.Max(0, (deadline - DateTime.UtcNow).TotalSeconds) * System.Diagnostics.Stopwatch.Frequency);

    private Refusal? Target(ReadOnlySequence<byte> message, out string? model, out string? version, out string? id)
    {
        (model, version, id) = (null, null, null);
        try
        {
            GrpcRequestDecoder.ReadTarget(message, out var m, out var v, out var i);
            (model, version) = (services.Names.Get(m), services.Names.Get(v));
            id = i.IsEmpty || i.Length > RequestFields.MaxIdBytes ? null : System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, i);
            return model is null ? new Refusal(StatusCodes.Status400BadRequest, $"malformed {GrpcRequestDecoder.MessageName}: model_name is required") : null;
        }
        catch (InferenceException e)
        {
            return Refusal.Of(e.Status, e.Message);
        }
    }

    private static Refusal? Submit(InferenceRequest request, Routed routed, ReadOnlySequence<byte> message, DateTime deadline, FeatureJoiner? joiner, out ValueTask<bool> completion, out JoinResult joined, out ValueTask<JoinResult>? pendingJoin)
    {
        (completion, joined, pendingJoin) = (default, default, null);
        try
        {
            GrpcRequestDecoder.Decode(message, request);
            if (deadline != DateTime.MaxValue)
            {
                // The stream's deadline is each of its requests'.
                long left = (long)((deadline - DateTime.UtcNow).TotalMicroseconds);
                if (left <= 0)
                {
                    return new Refusal(StatusCodes.Status504GatewayTimeout, "the call's deadline passed before the request reached the queue");
                }

                request.DeadlineMicroseconds = left;
            }

            pendingJoin = JoinStep.Start(joiner, routed, request, out joined);
            if (pendingJoin is not null)
            {
                return null;
            }

            completion = Submission.Start(request, routed, pollWhenAlone: false);
            return null;
        }
        catch (InferenceException e)
        {
            return Refusal.Of(e.Status, e.Message);
        }
    }

    private static void Serialize(StreamResponse response, SerializationContext context)
    {
        if (response.Forwarded is { } forwarded)
        {
            // infer_response (field 2): the remote's ModelInferResponse bytes, as they came.
            var body = forwarded.Body.Span;
            context.SetPayloadLength((int)ProtoWriter.LenFieldSize(2, body.Length));
            ProtoWriter.WriteBytes(context.GetBufferWriter(), 2, body);
        }
        else if (response.Answered is { } request)
        {
            context.SetPayloadLength((int)GrpcResponseEncoder.StreamSize(request, response.Degraded, response.FeatureStatuses));
            GrpcResponseEncoder.WriteStream(context.GetBufferWriter(), request, response.Degraded, response.FeatureStatuses);
        }
        else
        {
            string message = ClientTextLimit(response.Error!);
            context.SetPayloadLength((int)GrpcResponseEncoder.StreamErrorSize(message, response.Model, response.Id));
            GrpcResponseEncoder.WriteStreamError(context.GetBufferWriter(), message, response.Model, response.Id);
        }

        context.Complete();
    }

    private static string ClientTextLimit(string message) => Engine.Config.ClientText.Truncate(message, ResponseWriter.MaxErrorChars);

    /// <summary>
    /// A stream's shared state: its writer, taken by one answer at a time (gRPC allows one write in
    /// flight), the requests in flight, and the first error when errors end the stream.
    /// </summary>
    private sealed class State(IServerStreamWriter<StreamResponse> writer, bool errorsEnd)
    {
        private readonly SemaphoreSlim _writing = new(1, 1);
        private readonly Lock _gate = new();
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The reading loop counts as one until it is done, so that the count reaches 0 only after it.
        private int _inFlight = 1;

        public Status? FirstError { get; private set; }

        public bool Ended => FirstError is not null;

        public void Begin() => Interlocked.Increment(ref _inFlight);

        public void End()
        {
            if (Interlocked.Decrement(ref _inFlight) == 0)
            {
                _drained.TrySetResult();
            }
        }

        public Task AllAnsweredAsync()
        {
            End();
            return _drained.Task;
        }

        public async Task WriteAsync(StreamResponse response)
        {
            await _writing.WaitAsync();
            try
            {
                await writer.WriteAsync(response);
            }
            finally
            {
                _writing.Release();
            }
        }

        /// <summary>Answers a failed request: in-band, or (errors ending the stream) the first error becomes the call's status.</summary>
        public async Task<StatusCode> FailAsync(Refusal refusal, string? model, string? id)
        {
            var status = GrpcStatus.Of(refusal);
            if (errorsEnd)
            {
                lock (_gate)
                {
                    FirstError ??= status;
                }

                return status.StatusCode;
            }

            // The model as the request named it, for the client to match the answer, unless no model
            // could have that name (longer than any the repository takes): then the answer would
            // carry the client's text whole, up to the message's size.
            await WriteAsync(StreamResponse.Failure(refusal.Message, model is { Length: <= ClientText.MaxQuotedChars } ? model : null, id));
            return status.StatusCode;
        }
    }
}
