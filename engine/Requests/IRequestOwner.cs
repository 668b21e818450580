namespace LowLatency.Engine.Requests;

/// <summary>
/// What a request is rented from and answered for: its model version. The only calls a request
/// makes upwards go through here, once when its answer is published and once when it is given back,
/// so the request knows nothing of metrics, health or pooling.
/// </summary>
internal interface IRequestOwner
{
    /// <summary>On the thread that publishes the answer, before the awaiting code continues.</summary>
    void OnAnswered(InferenceRequest request);

    /// <summary>The request was disposed: it may be handed out again.</summary>
    void Return(InferenceRequest request);
}
