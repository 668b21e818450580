using LowLatency.Engine.Requests;
using LowLatency.Engine.Serving;

namespace LowLatency.Host.Endpoints;

/// <summary>Where a decoded (and joined) request goes, the same on every face.</summary>
internal static class Submission
{
    /// <summary>
    /// The route's fixed answer (no healthy version, a fixed fallback), or the engine's; throws what
    /// <see cref="ModelVersion.InferAsync"/> throws. <paramref name="pollWhenAlone"/>: the caller
    /// awaits this one answer at once (unary calls), so the engine may spin for it when it is alone.
    /// </summary>
    public static ValueTask<bool> Start(InferenceRequest request, in Routed routed, bool pollWhenAlone)
    {
        if (routed.FixedAnswer is { } fixedAnswer)
        {
            fixedAnswer.AnswerWith(request);
            return new ValueTask<bool>(true);
        }

        return routed.Version.InferAsync(request, pollWhenAlone);
    }
}
