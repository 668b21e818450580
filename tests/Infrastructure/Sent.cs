using LowLatency.Engine.Diagnostics;
using LowLatency.Engine.Requests;

namespace LowLatency.Tests.Infrastructure;

/// <summary>How a request sent through the engine by <see cref="CtrRepository.SendAsync"/> ended: its status, the version and route that answered, the error, the first output value.</summary>
public sealed record Sent(InferenceStatus Status, long? Version, RouteKind Kind, string? Error, float Value)
{
    public string? Model { get; init; }
}
