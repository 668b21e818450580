using LowLatency.Engine.Requests;
using LowLatency.Host.Protocol;
using LowLatency.Join;

namespace LowLatency.Host.Endpoints;

/// <summary>The step every inference face takes for a feature join that waits for the store.</summary>
internal static class JoinStep
{
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
    }
}
