namespace LowLatency.Gateway.Config;

/// <summary>
/// What a remote backend is told to prove who calls it: an API key (<c>X-Api-Key</c>) and/or a bearer
/// token (<c>Authorization: Bearer</c>), taken from the environment variables the alias file names, so
/// that the file (which the repository API writes) never holds the secret. Not a record: its text
/// names the variables, never the values.
/// </summary>
public sealed class RemoteCredentials(string? apiKey, string? apiKeyVariable, string? bearerToken, string? bearerTokenVariable)
{
    public string? ApiKey { get; } = apiKey;

    public string? BearerToken { get; } = bearerToken;

    public override string ToString() =>
        $"api_key {(apiKeyVariable is null ? "none" : "${" + apiKeyVariable + "}")}, bearer_token {(bearerTokenVariable is null ? "none" : "${" + bearerTokenVariable + "}")}";
}
