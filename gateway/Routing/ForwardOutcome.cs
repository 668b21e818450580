using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using ForwardedAnswer = LowLatency.Client.ForwardedAnswer;

namespace LowLatency.Gateway.Routing;

/// <summary>
/// How a request routed to a remote backend ended: a remote <see cref="Answer"/> (its backend in
/// <see cref="Call"/>), or a local backend to run it on (<see cref="Routed"/>, <see cref="Call"/>:
/// the face goes on as for any local request), or neither (<see cref="Status"/>, <see cref="Error"/>).
/// </summary>
public readonly record struct ForwardOutcome(ForwardedAnswer? Answer, BackendCall Call, Routed Routed, bool IsLocal, InferenceStatus Status, string? Error);
