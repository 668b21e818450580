namespace LowLatency.Engine.Serving;

/// <summary>What the index says about a model: each version's state and reason, and the last failed load.</summary>
internal sealed record ModelStatus(IReadOnlyDictionary<long, (string State, string Reason)> Versions, string? LastFailure)
{
    public static readonly ModelStatus None = new(new Dictionary<long, (string, string)>(), null);
}
