namespace LowLatency.Host.Security;

internal sealed class JwtOptions
{
    /// <summary>A symmetric signing key, base64 (HS256/384/512); at least 32 bytes.</summary>
    public string? SigningKey { get; set; }

    /// <summary>A JWKS file (<c>{"keys": [...]}</c>) with the issuer's public keys (RS/ES/PS algorithms).</summary>
    public string? JwksFile { get; set; }

    public string? Issuer { get; set; }

    public string? Audience { get; set; }
}
