namespace LowLatency.Engine.Requests;

/// <summary>
/// A request the engine refuses, with a message naming what is wrong. Thrown only on the cold path
/// (invalid input); a valid request never throws.
/// </summary>
public sealed class InferenceException(InferenceStatus status, string message) : Exception(message)
{
    public InferenceStatus Status { get; } = status;
}
