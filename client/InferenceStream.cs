using Grpc.Core;

namespace LowLatency.Client;

/// <summary>
/// A gRPC <c>ModelStreamInfer</c> call (<see cref="InferenceClient.OpenStream"/>): requests sent one
/// after another on one HTTP/2 stream, answers read as the server finishes them, each naming its
/// request's id. Sends are not concurrent (await each); reading may run beside sending. Nothing is
/// retried: a request sent is answered once, or the stream ends with an <see cref="InferenceException"/>.
/// </summary>
public sealed class InferenceStream : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<InferCall, StreamAnswer> _call;
    private bool _completed;

    internal InferenceStream(AsyncDuplexStreamingCall<InferCall, StreamAnswer> call) => _call = call;

    /// <summary>
    /// Sends a request of <paramref name="model"/> on <paramref name="inputs"/>, encoded at once (the
    /// inputs may change when this returns). <see cref="InferOptions.RequestId"/> tells the answer's request.
    /// The stream's deadline, set when it is opened, is each request's; a per-request timeout or deadline is refused.
    /// </summary>
    public async Task SendAsync(string model, IReadOnlyList<InferInput> inputs, InferOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= InferCall.NoOptions;
        if (options.Timeout is not null || options.Deadline is not null)
        {
            throw new ArgumentException("a stream's requests share the deadline the stream was opened with (OpenStream's deadline)", nameof(options));
        }

        try
        {
            await _call.RequestStream.WriteAsync(new InferCall(model, inputs, options, 0)).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Grpc.GrpcTransport.Map(e);
        }
    }

    /// <summary>The next answer; null once the server has answered everything and ended the stream.</summary>
    public async Task<StreamAnswer?> ReadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? _call.ResponseStream.Current : null;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Message, e, cancellationToken);
        }
        catch (RpcException e)
        {
            throw Grpc.GrpcTransport.Map(e);
        }
    }

    /// <summary>Tells the server no more requests come; it answers those it has, then ends the stream.</summary>
    public async Task CompleteAsync()
    {
        if (!_completed)
        {
            _completed = true;
            await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Ends the call: requests not answered yet are cancelled.</summary>
    public ValueTask DisposeAsync()
    {
        _call.Dispose();
        return default;
    }
}
