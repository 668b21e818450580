namespace LowLatency.Client;

/// <summary>
/// Per-call choices of an inference. Immutable once built: one instance may serve many calls at
/// once (build it once per kind of call, not per call, where the id does not change).
/// </summary>
public sealed class InferOptions
{
    /// <summary>The version to run; null lets the server's traffic split choose.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>The request's <c>id</c>, echoed in the answer (at most 256 bytes of UTF-8).</summary>
    public string? RequestId { get; init; }

    /// <summary>
    /// How long the call may take, from the moment <see cref="InferenceClient.InferAsync"/> is
    /// called, retries included. Over HTTP the server is told the time left (Triton's <c>timeout</c>
    /// parameter, µs) and the call is cancelled locally when it runs out; over gRPC it is the call's
    /// deadline. Null: <see cref="InferenceClientOptions.DefaultTimeout"/>.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>An absolute deadline, as an alternative to <see cref="Timeout"/>; the earlier of the two applies.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Triton's <c>priority</c>: 1 is the highest level; 0 (the default) leaves the model's default level.</summary>
    public int Priority { get; init; }

    /// <summary>The QoS class (<c>qos</c> parameter); null sends none.</summary>
    public QosClass? Qos { get; init; }

    /// <summary>
    /// Pins a user to a version while the traffic weights stay the same (HTTP header
    /// <c>X-Routing-Key</c>, gRPC metadata <c>x-routing-key</c>).
    /// </summary>
    public string? RoutingKey { get; init; }

    /// <summary>The outputs to return, by name; null returns every output.</summary>
    public IReadOnlyList<string>? Outputs { get; init; }
}
