using LowLatency.Engine.Requests;

namespace LowLatency.Host.Grpc;

/// <summary>
/// A call its client cancelled (or whose connection went) leaves the engine's queue at once and never
/// runs: the call's token cancels the request. The one place that calls the engine for it.
/// <para>
/// MERGE (h24-cancel): the engine's <c>InferenceRequest.Cancel()</c> (any thread, idempotent; the
/// request then completes with <c>InferenceStatus.Cancelled</c>) is not on this branch yet. Once it
/// is: set <see cref="Enabled"/> to true, uncomment the call in <see cref="Cancel"/>, and map
/// <c>InferenceStatus.Cancelled</c> to 499 in Protocol/HttpStatus (which GrpcStatus makes CANCELLED).
/// Until then a cancelled call's request stays queued, runs, and its answer goes nowhere.
/// </para>
/// </summary>
internal static class QueueCancellation
{
    /// <summary>Whether cancellation reaches the engine (false until <c>InferenceRequest.Cancel()</c> lands).</summary>
    public const bool Enabled = false;

    /// <summary>Cancels <paramref name="request"/> when <paramref name="token"/> fires, until the registration is disposed (after the answer).</summary>
    public static CancellationTokenRegistration Register(CancellationToken token, InferenceRequest request) =>
#pragma warning disable CS0162 // Unreachable until Enabled is true.
        Enabled ? token.UnsafeRegister(static r => Cancel((InferenceRequest)r!), request) : default;
#pragma warning restore CS0162

    private static void Cancel(InferenceRequest request)
    {
        // MERGE (h24-cancel): request.Cancel();
        _ = request;
    }
}
