namespace LowLatency.Host.Security;

/// <summary>
/// Who may call what, bound from <c>LowLatency:Auth</c>. With neither JWT nor API keys configured
/// every route is open, which the server allows only on loopback (or with <c>LowLatency:AllowInsecure</c>).
/// </summary>
internal sealed class AccessOptions
{
    /// <summary>JWT bearer tokens: a symmetric key or a JWKS file, optionally an issuer and audience.</summary>
    public JwtOptions? Jwt { get; set; }

    /// <summary>Static API keys (header <c>X-Api-Key</c>), each with a subject and scopes.</summary>
    public ApiKeyOptions[] ApiKeys { get; set; } = [];

    /// <summary>Who may read <c>/metrics</c>: <c>open</c> (default), <c>authenticated</c> or <c>admin</c> (any case).</summary>
    public AccessLevel Metrics { get; set; }

    /// <summary>Who may read <c>/v2/health/*</c>: <c>open</c> (default: load balancers probe it), <c>authenticated</c> or <c>admin</c>.</summary>
    public AccessLevel Health { get; set; }

    public bool Enabled => Jwt is not null || ApiKeys.Length > 0;

    /// <summary>
    /// What is wrong with these settings, one line each naming the setting (empty when nothing is);
    /// <paramref name="section"/> is the section they were bound from, for the keys' full names.
    /// Secrets are described, never repeated.
    /// </summary>
    public IEnumerable<string> Problems(IConfigurationSection section)
    {
        string[] keyPaths = [.. section.GetSection("ApiKeys").GetChildren().Select(c => c.Path)];
        string Setting(int i) => (i < keyPaths.Length ? keyPaths[i] : $"{section.Path}:ApiKeys:{i}") + ":Key";
        for (int i = 0; i < ApiKeys.Length; i++)
        {
            if (ApiKeys[i].KeyProblem() is { } problem)
            {
                yield return $"{Setting(i)} {problem}";
            }

            // The first match wins: a later entry with the same key could never apply.
            int first = Array.FindIndex(ApiKeys, 0, i, k => k.Key == ApiKeys[i].Key);
            if (first >= 0 && ApiKeys[i].Key.Length > 0)
            {
                yield return $"{Setting(i)} is the same key as {Setting(first)}: give each client its own";
            }
        }

        foreach (var (name, level) in new[] { ("Metrics", Metrics), ("Health", Health) })
        {
            // The binder takes any number for an enum.
            if (!Enum.IsDefined(level))
            {
                yield return $"{section.Path}:{name} is '{level:D}': it takes {string.Join(", ", Enum.GetNames<AccessLevel>())}";
            }
            else if (level != AccessLevel.Open && !Enabled)
            {
                // With no credential to check, the endpoint would stay open whatever the level says.
                yield return $"{section.Path}:{name}={level} cannot take effect without authentication: configure {section.Path}:Jwt or {section.Path}:ApiKeys, or leave it Open";
            }
        }
    }
}
