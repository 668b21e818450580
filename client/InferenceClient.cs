using System.Collections.Concurrent;
using System.Diagnostics;
using LowLatency.Client.Grpc;
using LowLatency.Client.Http;

namespace LowLatency.Client;

/// <summary>
/// A client of an Open Inference Protocol server (LowLatency, Triton), over HTTP or gRPC behind
/// the same calls. Create one per server and share it: it is thread-safe and holds the connection
/// pool (HTTP) or channels (gRPC).
/// <code>
/// using var client = new InferenceClient(new Uri("http://127.0.0.1:8000"));
/// using var result = await client.InferAsync("ctr-ranker", [
///     InferInput.Create("sparse", sparse, 1, 26),
///     InferInput.Create("dense", dense, 1, 13)]);
/// float p = result.Output("probability").As&lt;float&gt;()[0];
/// </code>
/// </summary>
public sealed class InferenceClient : IDisposable
{
    private readonly ClientTransport _transport;
    private readonly RetryPolicy _retry;
    private readonly TimeSpan? _defaultTimeout;
    private readonly TimeSpan _controlTimeout;
    private readonly ConcurrentDictionary<(string Model, string? Version), ModelMetadata> _metadata = new();
    private readonly Func<Credentials> _credentialsReader;
    private volatile Credentials _credentials;

    /// <summary>An HTTP client with MessagePack bodies and the default options.</summary>
    /// <param name="address">The server's base address, <c>http://127.0.0.1:8000</c>, say.</param>
    public InferenceClient(Uri address)
        : this(new InferenceClientOptions { Address = address })
    {
    }

    /// <summary>A client with the given options.</summary>
    /// <param name="options">Read now; later changes to it have no effect.</param>
    public InferenceClient(InferenceClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Copy();
        options.Validate();
        Transport = options.Transport;
        _retry = options.Retry;
        _defaultTimeout = options.DefaultTimeout;
        _controlTimeout = options.DefaultTimeout ?? TimeSpan.FromSeconds(30);
        _credentials = new Credentials(options.ApiKey, options.BearerToken);
        _credentialsReader = () => _credentials;
        _transport = options.Transport == InferenceTransport.Grpc
            ? new GrpcTransport(options, _credentialsReader)
            : new HttpTransport(options, _credentialsReader);
    }

    /// <summary>The transport this client uses.</summary>
    public InferenceTransport Transport { get; }

    /// <summary>A gRPC client with the default options.</summary>
    /// <param name="address">The server's gRPC address, <c>http://127.0.0.1:8001</c>, say.</param>
    public static InferenceClient ForGrpc(Uri address) => new(new InferenceClientOptions { Address = address, Transport = InferenceTransport.Grpc });

    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="inputs"/>. The inputs' memory is read when
    /// the request is encoded and must not change until the returned task completes. Retries what
    /// is safe to retry (<see cref="RetryPolicy"/>) within the call's deadline.
    /// </summary>
    /// <param name="model">The model's name.</param>
    /// <param name="inputs">Every input the model takes (an array, or a list reused from call to call).</param>
    /// <param name="options">Version, id, deadline, priority, QoS class, routing key, outputs; null for none.</param>
    /// <param name="cancellationToken">Cancels the call: it throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The answer; dispose it to return its buffers to the pool.</returns>
    /// <exception cref="InferenceException">The server refused the call or could not be reached; its <see cref="InferenceException.Status"/> says why.</exception>
    public async Task<InferResult> InferAsync(string model, IReadOnlyList<InferInput> inputs, InferOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= InferCall.NoOptions;
        Validate(inputs, options);
        cancellationToken.ThrowIfCancellationRequested();

        long deadline = DeadlineOf(options);
        var call = new InferCall(model, inputs, options, deadline);
        if (deadline != 0 && Stopwatch.GetTimestamp() >= deadline)
        {
            throw DeadlineExceeded(model, 0);
        }

        using var prepared = _transport.Begin(call);
        CancellationTokenSource? timer = null;
        var token = cancellationToken;
        if (deadline != 0 && _transport.NeedsLocalTimer)
        {
            timer = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : new CancellationTokenSource();
            timer.CancelAfter(Remaining(deadline));
            token = timer.Token;
        }

        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    return await _transport.AttemptAsync(call, prepared, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timer is { IsCancellationRequested: true })
                {
                    throw DeadlineExceeded(model, attempt);
                }
                catch (InferenceException e) when (e.IsSafeToRetry && attempt < _retry.MaxAttempts && WaitFits(e, attempt + 1, deadline, out var wait))
                {
                    try
                    {
                        await Task.Delay(wait, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw DeadlineExceeded(model, attempt);
                    }
                }
                catch (InferenceException e)
                {
                    e.Attempts = attempt;
                    throw;
                }
            }
        }
        finally
        {
            timer?.Dispose();
        }
    }

    /// <summary>
    /// Opens a gRPC <c>ModelStreamInfer</c> stream (Triton's streaming call: requests and answers on one
    /// HTTP/2 stream, answers as they finish). gRPC transport only.
    /// </summary>
    /// <param name="timeout">The stream's deadline from now, every request's too; null: the client's default timeout, if any.</param>
    /// <param name="cancellationToken">Cancels the stream and what it has not answered.</param>
    /// <exception cref="NotSupportedException">The client speaks HTTP, which has no streaming call.</exception>
    public InferenceStream OpenStream(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (_transport is not Grpc.GrpcTransport grpc)
        {
            throw new NotSupportedException("streams are gRPC's (ModelStreamInfer): create the client with InferenceTransport.Grpc");
        }

        var left = timeout ?? _defaultTimeout;
        return new InferenceStream(grpc.OpenStream(left is { } t ? DateTime.UtcNow + t : null, cancellationToken));
    }

    /// <summary>
    /// Sends a request body already encoded in the Open Inference Protocol (MessagePack, JSON, or JSON
    /// with binary tensors) to <paramref name="inferUri"/> (<see cref="InferUriOf"/>) as it is, and
    /// returns the answer as it comes, undecoded: what a gateway does with its client's request. One
    /// attempt, no retry (the caller, which knows its other backends, decides), HTTP only; the
    /// client's connection pool, credentials and mTLS settings apply.
    /// </summary>
    /// <param name="inferUri">Where to send it, from <see cref="InferUriOf"/> (made once, not per call).</param>
    /// <param name="body">The encoded body; read only within <paramref name="lease"/>, which may outlast the returned task.</param>
    /// <param name="lease">Who reads the body: take it back only once <see cref="BodyLease.CloseAsync"/> has completed; null when the body outlives every write (an array of its own).</param>
    /// <param name="contentType">Its Content-Type, sent as is.</param>
    /// <param name="jsonLength">Its <c>Inference-Header-Content-Length</c>, if any.</param>
    /// <param name="headers">Further request headers (routing key, trace context), sent as they are.</param>
    /// <param name="cancellationToken">Cancels the call (a timeout, say): it throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The answer, whatever its status; dispose it to return its buffer.</returns>
    /// <exception cref="InferenceException">The server could not be reached, or the connection failed (<see cref="InferenceStatus.Unavailable"/>).</exception>
    /// <exception cref="NotSupportedException">The client speaks gRPC.</exception>
    public Task<ForwardedAnswer> ForwardAsync(Uri inferUri, System.Buffers.ReadOnlySequence<byte> body, BodyLease? lease, string contentType, string? jsonLength, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inferUri);
        ArgumentException.ThrowIfNullOrEmpty(contentType);
        ArgumentNullException.ThrowIfNull(headers);
        return _transport is HttpTransport http
            ? http.ForwardAsync(inferUri, body, lease, contentType, jsonLength, headers, cancellationToken)
            : throw new NotSupportedException("forwarding an encoded body is HTTP's: create the client with InferenceTransport.Http");
    }

    /// <summary>
    /// Sends a <c>ModelInferRequest</c> already encoded (a gRPC message's bytes, without gRPC's 5-byte
    /// prefix) to <paramref name="model"/> on this server as it is, the target's name and version set
    /// by fields appended to it (the last of a scalar field wins), and returns the answer's message
    /// undecoded: what a gateway does with its client's gRPC call. One attempt, no retry, gRPC only;
    /// the client's channels, credentials and mTLS settings apply.
    /// </summary>
    /// <param name="message">The encoded request; read only within <paramref name="lease"/>, which may outlast the returned task.</param>
    /// <param name="lease">Who reads the message: take it back only once <see cref="BodyLease.CloseAsync"/> has completed; null when it outlives every write.</param>
    /// <param name="model">The model on this server.</param>
    /// <param name="version">A version; null for the model's own choice (the message's own version field then stands: send none).</param>
    /// <param name="headers">Metadata sent with the call (routing key, trace context), lowercase keys.</param>
    /// <param name="deadline">The call's deadline, sent to the server as grpc-timeout; null: none.</param>
    /// <param name="cancellationToken">Cancels the call: it throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The answer: OK with the message in <see cref="ForwardedAnswer.Body"/>, or another status with
    /// <see cref="ForwardedAnswer.GrpcStatus"/> and <see cref="ForwardedAnswer.GrpcMessage"/> and no body; dispose it.</returns>
    /// <exception cref="InferenceException">The call got no answer: the server could not be reached, or the connection failed.</exception>
    /// <exception cref="NotSupportedException">The client speaks HTTP.</exception>
    public Task<ForwardedAnswer> ForwardGrpcAsync(System.Buffers.ReadOnlySequence<byte> message, BodyLease? lease, string model, string? version, IReadOnlyList<KeyValuePair<string, string>> headers, DateTime? deadline, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(headers);
        return _transport is Grpc.GrpcTransport grpc
            ? grpc.ForwardAsync(new Grpc.ForwardedMessage(message, lease, model, version), headers, deadline, cancellationToken)
            : throw new NotSupportedException("forwarding a gRPC message is gRPC's: create the client with InferenceTransport.Grpc");
    }

    /// <summary>The URI <see cref="ForwardAsync"/> sends a model's (or one version's) requests to.</summary>
    /// <param name="model">The model's name on the server.</param>
    /// <param name="version">A version; null for the model's own choice.</param>
    public Uri InferUriOf(string model, string? version = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        return _transport is HttpTransport http
            ? http.InferUriOf(model, version)
            : throw new NotSupportedException("forwarding an encoded body is HTTP's: create the client with InferenceTransport.Http");
    }

    /// <summary>Whether the server's process is serving (<c>/v2/health/live</c>, gRPC <c>ServerLive</c>); false when it cannot be reached.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<bool> IsLiveAsync(CancellationToken cancellationToken = default) =>
        ControlAsync((t, ct) => t.LiveAsync(ct), cancellationToken);

    /// <summary>Whether the server is ready for inference (models loaded, not shutting down); false when it cannot be reached.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) =>
        ControlAsync((t, ct) => t.ReadyAsync(ct), cancellationToken);

    /// <summary>Whether a model (or one version of it) is ready; false for an unknown model, or when the server cannot be reached.</summary>
    /// <param name="model">The model's name.</param>
    /// <param name="version">A version; null for the model as a whole.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<bool> IsModelReadyAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        return ControlAsync((t, ct) => t.ModelReadyAsync(model, version, ct), cancellationToken);
    }

    /// <summary>
    /// A model's metadata, fetched once per model and version and then served from a cache for the
    /// client's lifetime (<see cref="ForgetModelMetadata"/> drops it, after a reload, say).
    /// Retried as inferences are.
    /// </summary>
    /// <param name="model">The model's name.</param>
    /// <param name="version">A version; null for the model as a whole.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<ModelMetadata> GetModelMetadataAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        if (_metadata.TryGetValue((model, version), out var cached))
        {
            return cached;
        }

        var fetched = await RetriedAsync((t, ct) => t.ModelMetadataAsync(model, version, ct), cancellationToken).ConfigureAwait(false);
        return _metadata.GetOrAdd((model, version), fetched);
    }

    /// <summary>Drops the cached metadata of <paramref name="model"/> (every version), or of every model when null.</summary>
    /// <param name="model">The model's name; null for all.</param>
    public void ForgetModelMetadata(string? model = null)
    {
        foreach (var key in _metadata.Keys)
        {
            if (model is null || key.Model == model)
            {
                _metadata.TryRemove(key, out _);
            }
        }
    }

    /// <summary>The server's name, version and protocol extensions. Retried as inferences are.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default) =>
        RetriedAsync((t, ct) => t.ServerMetadataAsync(ct), cancellationToken);

    /// <summary>Replaces the bearer token sent from now on (a refreshed JWT); null stops sending one. Calls in flight keep the one they started with.</summary>
    /// <param name="token">The token, without the <c>Bearer</c> prefix.</param>
    public void SetBearerToken(string? token) => _credentials = new Credentials(_credentials.ApiKey, token);

    /// <summary>Closes the connections. Results already returned stay readable until disposed.</summary>
    public void Dispose() => _transport.Dispose();

    private static void Validate(IReadOnlyList<InferInput> inputs, InferOptions options)
    {
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Name is null)
            {
                throw new ArgumentException($"inputs[{i}] was never created (default(InferInput)): use InferInput.Create", nameof(inputs));
            }
        }

        if (options.Priority < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Priority, "Priority must be 0 (the model's default) or more");
        }
    }

    private long DeadlineOf(InferOptions options)
    {
        var timeout = options.Timeout ?? (options.Deadline is null ? _defaultTimeout : null);
        if (options.Deadline is { } at)
        {
            var untilDeadline = at - DateTimeOffset.UtcNow;
            timeout = timeout is { } t && t < untilDeadline ? t : untilDeadline;
        }

        if (timeout is not { } left)
        {
            return 0;
        }

        long now = Stopwatch.GetTimestamp();
        return left <= TimeSpan.Zero ? now : now + (long)(left.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond));
    }

    private static TimeSpan Remaining(long deadline) =>
        TimeSpan.FromTicks(Math.Max(1, (long)((deadline - Stopwatch.GetTimestamp()) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency))));

    /// <summary>Whether the wait before the next attempt may be spent: a Retry-After within bounds, and an attempt still possible before the deadline.</summary>
    private bool WaitFits(InferenceException e, int next, long deadline, out TimeSpan wait)
    {
        wait = _retry.Delay(next, e.RetryAfter);
        bool fits = (e.RetryAfter is not { } after || after <= _retry.MaxRetryAfter)
            && (deadline == 0 || Stopwatch.GetTimestamp() + (long)(wait.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond)) < deadline);
        if (!fits)
        {
            e.Attempts = next - 1;
        }

        return fits;
    }

    private static InferenceException DeadlineExceeded(string model, int attempts) =>
        new(InferenceStatus.DeadlineExceeded, $"the call to model '{model}' did not complete within its deadline") { Attempts = Math.Max(1, attempts) };

    private async Task<T> ControlAsync<T>(Func<ClientTransport, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(_controlTimeout);
        try
        {
            return await call(_transport, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InferenceException(InferenceStatus.DeadlineExceeded, $"the server did not answer within {_controlTimeout.TotalSeconds:0.###} s");
        }
    }

    private async Task<T> RetriedAsync<T>(Func<ClientTransport, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await ControlAsync(call, cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException e) when (e.IsSafeToRetry && attempt < _retry.MaxAttempts && WaitFits(e, attempt + 1, 0, out var wait))
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException e)
            {
                e.Attempts = attempt;
                throw;
            }
        }
    }
}
