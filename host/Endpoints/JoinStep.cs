using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;
using LowLatency.Host.Protocol;
using LowLatency.Join;

namespace LowLatency.Host.Endpoints;

/// <summary>The step every inference face takes for a feature join that waits for the store.</summary>
internal static class JoinStep
{
    /// <summary>
    /// Starts the feature join of a decoded request that the route sends to its model (not to a fixed
    /// answer) and whose model joins features. Returns the join when it waits for the store (null when
    /// it is done, with <paramref name="joined"/>, or when there is none). Throws what the join throws.
    /// </summary>
    public static ValueTask<JoinResult>? Start(FeatureJoiner? joiner, in Routed routed, InferenceRequest request, out JoinResult joined)
    {
        joined = default;
        if (joiner is null || routed.FixedAnswer is not null || request.Config.Features is null)
        {
            return null;
        }

        var join = joiner.JoinAsync(request);
        if (!join.IsCompleted)
        {
            return join;
        }

        joined = join.Result;
        return null;
    }

    /// <summary>What the join found, or the refusal it ended in (missing ids, a required feature not present).</summary>
    public static async ValueTask<(Refusal? Refusal, JoinResult Joined)> JoinedAsync(ValueTask<JoinResult> join)
    {
        try
        {
            return (null, await join);
        }
        catch (InferenceException e)
        {
            return (Refusal.Of(e.Status, e.Message), default);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The server's fault, not the client's: answered (a stream answers every request it took).
            return (new Refusal(StatusCodes.Status500InternalServerError, "the feature join failed: " + e.Message), default);
        }
    }

    /// <summary>Submits a request whose join waited; the refusal when the engine refuses it (validation, a version stopping).</summary>
    public static Refusal? Submit(InferenceRequest request, in Routed routed, bool pollWhenAlone, out ValueTask<bool> completion)
    {
        completion = default;
        try
        {
            completion = Submission.Start(request, routed, pollWhenAlone);
            return null;
        }
        catch (InferenceException e)
        {
            return Refusal.Of(e.Status, e.Message);
        }
    }
}
