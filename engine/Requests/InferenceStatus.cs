namespace LowLatency.Engine.Requests;

/// <summary>How a request ended; the host maps each to an HTTP status.</summary>
public enum InferenceStatus
{
    Ok,

    /// <summary>The request is malformed or disagrees with the model's configuration (400).</summary>
    BadRequest,

    /// <summary>Unknown model or version (404).</summary>
    NotFound,

    /// <summary>The body exceeds the configured limit (413).</summary>
    TooLarge,

    /// <summary>The model or server is not ready, or is shutting down (503).</summary>
    Unavailable,

    /// <summary>Refused at once: the queue is full, or the deadline cannot be met given the work ahead (429).</summary>
    Rejected,

    /// <summary>The request's timeout or deadline passed while it was queued; it never reached the model (504).</summary>
    DeadlineExceeded,

    /// <summary>The model failed on input it accepted: a server-side fault (500).</summary>
    ModelError,

    /// <summary>Cancelled by its caller (<see cref="InferenceRequest.Cancel"/>) before it was taken into a batch; it never reached the model (499).</summary>
    Cancelled,
}
