using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace LowLatency.Host.Security;

/// <summary>
/// Authenticates <c>X-Api-Key</c> against the configured keys. Keys are compared as SHA-256 digests
/// in constant time, so neither the comparison's time nor a memory dump of the table gives a key away.
/// </summary>
internal sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccessOptions access)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    private readonly (byte[] Digest, ClaimsPrincipal Principal)[] _keys = access.ApiKeys
        .Select(k => (SHA256.HashData(Encoding.UTF8.GetBytes(k.Key)), Principal(k)))
        .ToArray();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values) || values.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // Two keys in one request leave it unclear whose request it is; an empty key is no
        // credential, whatever the table holds. Neither is ever a match.
        if (values.Count > 1)
        {
            return Task.FromResult(AuthenticateResult.Fail($"more than one {Header} header"));
        }

        if (string.IsNullOrWhiteSpace(values[0]))
        {
            return Task.FromResult(AuthenticateResult.Fail($"empty {Header}"));
        }

        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(values[0]!));
        foreach (var (known, principal) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(known, digest))
            {
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
            }
        }

        return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
    }

    private static ClaimsPrincipal Principal(ApiKeyOptions key)
    {
        var claims = new List<Claim> { new("sub", key.Subject) };
        claims.AddRange(key.Scopes.Select(s => new Claim("scope", s)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, "sub", null));
    }
}
