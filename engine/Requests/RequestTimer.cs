using LowLatency.Engine.Time;

namespace LowLatency.Engine.Requests;

/// <summary>A request's timer node: its batching window or its timeout.</summary>
internal sealed class RequestTimer(InferenceRequest request) : TimerNode
{
    public InferenceRequest Request { get; } = request;
}
