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

    /// <summary>Who may read <c>/metrics</c>: <c>open</c> (default), <c>authenticated</c> or <c>admin</c>.</summary>
    public string Metrics { get; set; } = "open";

    /// <summary>Who may read <c>/v2/health/*</c>: <c>open</c> (default: load balancers probe it), <c>authenticated</c> or <c>admin</c>.</summary>
    public string Health { get; set; } = "open";

    public bool Enabled => Jwt is not null || ApiKeys.Length > 0;
}
