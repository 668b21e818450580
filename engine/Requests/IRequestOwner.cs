namespace LowLatency.Engine.Requests;

/// <summary>
/// What a request is rented from and answered for: its model version. The only calls a request
/// makes upwards go through here: once when its answer is published, once when it is given back,
/// and once when its caller cancels it; so the request knows nothing of metrics, health, pooling or
/// scheduling.
/// </summary>
internal interface IRequestOwner
{
    /// <summary>On the thread that publishes the answer, before the awaiting code continues.</summary>
    void OnAnswered(InferenceRequest request);

    /// <summary>
    /// The request's caller cancelled it (<see cref="InferenceRequest.Cancel"/>, once per use, any
    /// thread): its scheduler is to take it out of its queue and answer it, if it has not batched it.
    /// </summary>
    void OnCancelRequested(InferenceRequest request);

    /// <summary>The request was disposed: it may be handed out again.</summary>
    void Return(InferenceRequest request);
}
