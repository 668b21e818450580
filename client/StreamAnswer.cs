namespace LowLatency.Client;

/// <summary>
/// One answer on an <see cref="InferenceStream"/>: the result of a request, or why the server could
/// not answer it (a stream carries no status code per request: <see cref="InferenceException.ServerMessage"/>
/// says why). Answers come in the order the server finishes them; <see cref="Id"/> tells which request.
/// </summary>
public sealed class StreamAnswer : IDisposable
{
    internal StreamAnswer(InferResult? result, InferenceException? error, string? model, string? id)
    {
        Result = result;
        Error = error;
        Model = model;
        Id = id;
    }

    /// <summary>The answer; null when the request failed. Disposed with this answer.</summary>
    public InferResult? Result { get; }

    /// <summary>Why the request failed; null when it was answered.</summary>
    public InferenceException? Error { get; }

    /// <summary>The model the request named, as the server echoes it.</summary>
    public string? Model { get; }

    /// <summary>The request's id, as the server echoes it (give each request a RequestId to match answers to requests).</summary>
    public string? Id { get; }

    /// <summary>Returns the result's buffers to the pool.</summary>
    public void Dispose() => Result?.Dispose();
}
