namespace LowLatency.Engine.Serving;

/// <summary>The outcome of a repository request: ok, or an error with the HTTP status it maps to.</summary>
public sealed record RepositoryOutcome(int Status, string? Error)
{
    public static readonly RepositoryOutcome Ok = new(200, null);

    public bool Succeeded => Status == 200;

    public static RepositoryOutcome BadRequest(string error) => new(400, error);

    public static RepositoryOutcome NotFound(string error) => new(404, error);

    public static RepositoryOutcome Conflict(string error) => new(409, error);
}
