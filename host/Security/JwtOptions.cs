namespace LowLatency.Host.Security;

internal sealed class JwtOptions
{
    /// <summary>
    /// A symmetric signing key, base64: at least 32 bytes for HS256, 48 for HS384, 64 for HS512
    /// (<see cref="JwtKeys.Hmac"/>).
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>A JWKS file (<c>{"keys": [...]}</c>) with the issuer's public keys (RS/ES/PS algorithms).</summary>
    public string? JwksFile { get; set; }

    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    /// <summary>
    /// The algorithms accepted (<c>HS256</c>, <c>RS256</c>, …); each must be one the keys can serve.
    /// Empty: every algorithm they can serve (<see cref="JwtKeys.Load"/>).
    /// </summary>
    public string[] Algorithms { get; set; } = [];
}
