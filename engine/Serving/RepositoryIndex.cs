namespace LowLatency.Engine.Serving;

/// <summary>One row of the repository index (Triton's repository extension): a model, or one version of it.</summary>
public sealed record IndexEntry(string Name, string? Version, string? State, string? Reason);

/// <summary>The outcome of a repository request: ok, or an error with the HTTP status it maps to.</summary>
public sealed record RepositoryOutcome(int Status, string? Error)
{
    public static readonly RepositoryOutcome Ok = new(200, null);

    public bool Succeeded => Status == 200;

    public static RepositoryOutcome BadRequest(string error) => new(400, error);

    public static RepositoryOutcome NotFound(string error) => new(404, error);

    public static RepositoryOutcome Conflict(string error) => new(409, error);
}

/// <summary>What the index says about a model: each version's state and reason, and the last failed load.</summary>
internal sealed record ModelStatus(IReadOnlyDictionary<long, (string State, string Reason)> Versions, string? LastFailure)
{
    public static readonly ModelStatus None = new(new Dictionary<long, (string, string)>(), null);
}
