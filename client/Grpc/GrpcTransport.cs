using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using LowLatency.Client.Wire;

namespace LowLatency.Client.Grpc;

/// <summary>
/// The gRPC transport: <c>ModelInfer</c> through <see cref="InferMethod"/> on a channel's
/// <see cref="CallInvoker"/>, the control calls through the generated client. One channel by
/// default (HTTP/2 multiplexes every call on its connection, opening another only past the server's
/// stream limit); several, taken in turn, where one connection's ordering becomes the bottleneck.
/// </summary>
internal sealed class GrpcTransport : ClientTransport
{
    private readonly GrpcChannel[] _channels;
    private readonly CallInvoker[] _invokers;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _control;
    private readonly Func<Credentials> _credentials;
    private readonly TimeSpan _controlTimeout;
    private int _next;

    public GrpcTransport(InferenceClientOptions options, Func<Credentials> credentials)
    {
        _channels = new GrpcChannel[options.GrpcChannelCount];
        _invokers = new CallInvoker[_channels.Length];
        for (int i = 0; i < _channels.Length; i++)
        {
            var handler = new SocketsHttpHandler
            {
                UseProxy = options.UseProxy,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = options.ConnectTimeout,
                PooledConnectionLifetime = options.PooledConnectionLifetime,
                EnableMultipleHttp2Connections = true,
                // Notice a dead peer on an idle connection before a call waits on it.
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            };
            options.ConfigureHandler?.Invoke(handler);
            _channels[i] = GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                // Set explicitly, as Triton's users learned to (its issue 4972): the 4 MB default
                // refuses a batch of images.
                MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
                MaxSendMessageSize = null,
            });
            _invokers[i] = _channels[i].CreateCallInvoker();
        }

        _control = new GRPCInferenceService.GRPCInferenceServiceClient(_invokers[0]);
        _credentials = credentials;
        _controlTimeout = options.DefaultTimeout ?? TimeSpan.FromSeconds(30);
    }

    public override bool NeedsLocalTimer => false;

    public override IDisposable? Begin(InferCall call) => null;

    public override async Task<InferResult> AttemptAsync(InferCall call, IDisposable? prepared, CancellationToken token)
    {
        var invoker = _invokers.Length == 1 ? _invokers[0] : _invokers[(int)((uint)Interlocked.Increment(ref _next) % (uint)_invokers.Length)];
        var options = new CallOptions(Headers(call.Options.RoutingKey), call.HasDeadline ? DeadlineOf(call.Deadline) : null, token);
        using var grpcCall = invoker.AsyncUnaryCall(InferMethod.ModelInfer, null, options, call);
        InferResult result;
        try
        {
            result = await grpcCall.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && token.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Message, e, token);
        }
        catch (RpcException e)
        {
            throw Map(e);
        }

        result.ServerTiming = ServerTimingOf(grpcCall.GetTrailers());
        return result;
    }

    /// <summary>
    /// One <c>ModelInfer</c> call with an encoded message (<see cref="ForwardMethod"/>): the answer
    /// whatever the call's status, a status other than OK as an empty answer with its code, message
    /// and HTTP equivalent; a call that never got an answer (not connected, the connection lost)
    /// throws as <see cref="Map"/> says.
    /// </summary>
    public async Task<ForwardedAnswer> ForwardAsync(ForwardedMessage message, IReadOnlyList<KeyValuePair<string, string>> headers, DateTime? deadline, CancellationToken token)
    {
        var invoker = _invokers.Length == 1 ? _invokers[0] : _invokers[(int)((uint)Interlocked.Increment(ref _next) % (uint)_invokers.Length)];
        var metadata = new Metadata();
        _credentials().Add(metadata);
        for (int i = 0; i < headers.Count; i++)
        {
            metadata.Add(headers[i].Key, headers[i].Value);
        }

        using var call = invoker.AsyncUnaryCall(ForwardMethod.ModelInfer, null, new CallOptions(metadata, deadline, token), message);
        try
        {
            var answer = await call.ResponseAsync.ConfigureAwait(false);
            return answer;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && token.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Message, e, token);
        }
        catch (RpcException e) when (e.Status.DebugException is not null)
        {
            throw Map(e);
        }
        catch (RpcException e)
        {
            string? retryAfter = RetryAfterOf(e.Trailers) is { } after ? ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture) : null;
            return new ForwardedAnswer(StatusMap.HttpOf(e.StatusCode), "application/grpc", null, retryAfter, System.Buffers.ArrayPool<byte>.Shared.Rent(1), 0)
            {
                GrpcStatus = (int)e.StatusCode,
                GrpcMessage = e.Status.Detail,
            };
        }
    }

    /// <summary>A <c>ModelStreamInfer</c> call on the next channel, ending at <paramref name="deadline"/> (null: none).</summary>
    public AsyncDuplexStreamingCall<InferCall, StreamAnswer> OpenStream(DateTime? deadline, CancellationToken token)
    {
        var invoker = _invokers.Length == 1 ? _invokers[0] : _invokers[(int)((uint)Interlocked.Increment(ref _next) % (uint)_invokers.Length)];
        return invoker.AsyncDuplexStreamingCall(StreamMethod.ModelStreamInfer, null, new CallOptions(Headers(null), deadline, token));
    }

    public override async Task<bool> LiveAsync(CancellationToken token)
    {
        try
        {
            return (await _control.ServerLiveAsync(new ServerLiveRequest(), ControlOptions(token)).ConfigureAwait(false)).Live;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            return false;
        }
        catch (RpcException e)
        {
            throw Map(e);
        }
    }

    public override async Task<bool> ReadyAsync(CancellationToken token)
    {
        try
        {
            return (await _control.ServerReadyAsync(new ServerReadyRequest(), ControlOptions(token)).ConfigureAwait(false)).Ready;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            return false;
        }
        catch (RpcException e)
        {
            throw Map(e);
        }
    }

    public override async Task<bool> ModelReadyAsync(string model, string? version, CancellationToken token)
    {
        try
        {
            var request = new ModelReadyRequest { Name = model, Version = version ?? string.Empty };
            return (await _control.ModelReadyAsync(request, ControlOptions(token)).ConfigureAwait(false)).Ready;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.NotFound)
        {
            return false;
        }
        catch (RpcException e)
        {
            throw Map(e);
        }
    }

    public override async Task<ModelMetadata> ModelMetadataAsync(string model, string? version, CancellationToken token)
    {
        ModelMetadataResponse response;
        try
        {
            var request = new ModelMetadataRequest { Name = model, Version = version ?? string.Empty };
            response = await _control.ModelMetadataAsync(request, ControlOptions(token)).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Map(e);
        }

        return new ModelMetadata(
            response.Name,
            [.. response.Versions],
            response.Platform,
            [.. response.Inputs.Select(t => new TensorMetadata(t.Name, t.Datatype, t.Shape.ToArray()))],
            [.. response.Outputs.Select(t => new TensorMetadata(t.Name, t.Datatype, t.Shape.ToArray()))]);
    }

    public override async Task<ServerMetadata> ServerMetadataAsync(CancellationToken token)
    {
        try
        {
            var response = await _control.ServerMetadataAsync(new ServerMetadataRequest(), ControlOptions(token)).ConfigureAwait(false);
            return new ServerMetadata(response.Name, response.Version, [.. response.Extensions]);
        }
        catch (RpcException e)
        {
            throw Map(e);
        }
    }

    public override void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    /// <summary>
    /// A failed call as an <see cref="InferenceException"/>. UNAVAILABLE is safe to retry when the
    /// server said it (no transport exception behind it) or the connection could not be made; a
    /// connection lost mid-call is not. RESOURCE_EXHAUSTED is the server's refusal, except where
    /// Grpc.Net.Client itself reports a message over its size limits (an answer too large: the
    /// model ran).
    /// </summary>
    internal static InferenceException Map(RpcException e)
    {
        var status = e.Status;
        string detail = status.Detail;
        bool safe = status.StatusCode switch
        {
            StatusCode.Unavailable => status.DebugException is null || IsConnectFailure(status.DebugException),
            StatusCode.ResourceExhausted => status.DebugException is null
                && !detail.StartsWith("Received message exceeds", StringComparison.Ordinal)
                && !detail.StartsWith("Sending message exceeds", StringComparison.Ordinal),
            _ => false,
        };

        if (status.DebugException is MalformedAnswerException malformed)
        {
            return new InferenceException(InferenceStatus.Internal, "the server's answer could not be read: " + malformed.Message, e) { GrpcStatus = status.StatusCode };
        }

        return new InferenceException(StatusMap.FromGrpc(status.StatusCode), $"gRPC {status.StatusCode}: {detail}", e)
        {
            GrpcStatus = status.StatusCode,
            ServerMessage = status.DebugException is null && detail.Length > 0 ? detail : null,
            RetryAfter = RetryAfterOf(e.Trailers),
            IsSafeToRetry = safe,
        };
    }

    /// <summary>
    /// Whether the connection could not be made: Grpc.Net.Client reports its subchannel's failed
    /// connect as the socket's own exception, HttpClient as a connection error.
    /// </summary>
    private static bool IsConnectFailure(Exception e)
    {
        if (e is System.Net.Sockets.SocketException)
        {
            return true;
        }

        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The server's <c>retry-after</c> (seconds, as over HTTP) or gRPC's own <c>grpc-retry-pushback-ms</c>.</summary>
    private static TimeSpan? RetryAfterOf(Metadata trailers)
    {
        foreach (var entry in trailers)
        {
            if (entry.IsBinary)
            {
                continue;
            }

            if (entry.Key == "retry-after" && double.TryParse(entry.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (entry.Key == "grpc-retry-pushback-ms" && long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
            {
                return TimeSpan.FromMilliseconds(ms);
            }
        }

        return null;
    }

    private static ServerTiming ServerTimingOf(Metadata trailers)
    {
        foreach (var entry in trailers)
        {
            if (!entry.IsBinary && entry.Key == "server-timing")
            {
                return ServerTiming.Parse(entry.Value);
            }
        }

        return default;
    }

    private static DateTime DeadlineOf(long deadline) =>
        DateTime.UtcNow.AddTicks((long)((deadline - Stopwatch.GetTimestamp()) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));

    private Metadata? Headers(string? routingKey)
    {
        var credentials = _credentials();
        if (routingKey is null)
        {
            return credentials.GrpcHeaders;
        }

        var headers = new Metadata();
        credentials.Add(headers);
        headers.Add("x-routing-key", routingKey);
        return headers;
    }

    private CallOptions ControlOptions(CancellationToken token) =>
        new(Headers(null), DateTime.UtcNow + _controlTimeout, token);
}
