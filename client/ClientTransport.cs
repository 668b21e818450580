namespace LowLatency.Client;

/// <summary>What <see cref="InferenceClient"/> asks of a transport: one attempt of an inference, and the control calls. Retries and deadlines are the client's.</summary>
internal abstract class ClientTransport : IDisposable
{
    /// <summary>Whether the client must cancel an attempt at the deadline itself (HTTP), or the transport carries the deadline (gRPC).</summary>
    public abstract bool NeedsLocalTimer { get; }

    /// <summary>Prepares what every attempt of the call sends (HTTP: the body, encoded once); disposed when the call ends.</summary>
    public abstract IDisposable? Begin(InferCall call);

    /// <summary>One attempt; failures are <see cref="InferenceException"/>s saying whether they are safe to retry.</summary>
    public abstract Task<InferResult> AttemptAsync(InferCall call, IDisposable? prepared, CancellationToken token);

    public abstract Task<bool> LiveAsync(CancellationToken token);

    public abstract Task<bool> ReadyAsync(CancellationToken token);

    public abstract Task<bool> ModelReadyAsync(string model, string? version, CancellationToken token);

    public abstract Task<ModelMetadata> ModelMetadataAsync(string model, string? version, CancellationToken token);

    public abstract Task<ServerMetadata> ServerMetadataAsync(CancellationToken token);

    public abstract void Dispose();
}
