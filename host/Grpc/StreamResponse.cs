using LowLatency.Engine.Requests;

namespace LowLatency.Host.Grpc;

/// <summary>
/// One <c>ModelStreamInferResponse</c> to send: an answered request, written straight from its
/// output tensors by the marshaller (<see cref="GrpcResponseEncoder.WriteStream"/>), a remote
/// backend's <c>ModelInferResponse</c> as it came (<see cref="Forwarded"/>), or an error naming the
/// request it answers. Serialized while the stream's writer sends it, before the request goes back
/// to its pool (or the forwarded answer is disposed).
/// </summary>
internal sealed class StreamResponse
{
    private StreamResponse(LowLatency.Client.ForwardedAnswer forwarded) => Forwarded = forwarded;

    /// <summary>A remote backend's answer message, sent as the stream response's <c>infer_response</c>.</summary>
    public LowLatency.Client.ForwardedAnswer? Forwarded { get; }

    public static StreamResponse Remote(LowLatency.Client.ForwardedAnswer answer) => new(answer);

    private StreamResponse(InferenceRequest? answered, string? degraded, string? featureStatuses, string? error, string? model, string? id) =>
        (Answered, Degraded, FeatureStatuses, Error, Model, Id) = (answered, degraded, featureStatuses, error, model, id);

    public InferenceRequest? Answered { get; }

    public string? Degraded { get; }

    /// <summary>A feature-joined answer's row statuses when a row was not PRESENT (the parameter <c>feature_statuses</c>, as ModelInfer's).</summary>
    public string? FeatureStatuses { get; }

    public string? Error { get; }

    public string? Model { get; }

    public string? Id { get; }

    public static StreamResponse Answer(InferenceRequest request, string? degraded, string? featureStatuses) => new(request, degraded, featureStatuses, null, null, null);

    public static StreamResponse Failure(string message, string? model, string? id) => new(null, null, null, message, model, id);
}
