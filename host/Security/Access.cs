using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using LowLatency.Engine.Config;
using LowLatency.Host.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Host.Security;

/// <summary>
/// Authentication (JWT bearer, API keys) and the checks each route makes. Checks are explicit calls
/// in the endpoints because the scope needed depends on the model in the URL; with authentication
/// off they cost one flag test.
/// </summary>
internal static class Access
{
    private const string Selector = "LowLatency";

    public static void AddAuthentication(WebApplicationBuilder builder, AccessOptions access)
    {
        builder.Services.AddSingleton(access);
        if (!access.Enabled)
        {
            return;
        }

        var auth = builder.Services.AddAuthentication(Selector);
        // One scheme that forwards by header: a bearer token to JWT, an X-Api-Key to the key table.
        auth.AddPolicyScheme(Selector, Selector, o => o.ForwardDefaultSelector = ctx =>
            ctx.Request.Headers.ContainsKey(ApiKeyHandler.Header) ? ApiKeyHandler.SchemeName : JwtBearerDefaults.AuthenticationScheme);
        auth.AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
        if (access.Jwt is { } jwt)
        {
            var keys = SigningKeys(jwt);
            auth.AddJwtBearer(o =>
            {
                // Claim names as the token has them (sub, scope), not mapped to WS-* URIs.
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    IssuerSigningKeys = keys,
                    ValidateIssuerSigningKey = true,
                    ValidIssuer = jwt.Issuer,
                    ValidateIssuer = jwt.Issuer is not null,
                    ValidAudience = jwt.Audience,
                    ValidateAudience = jwt.Audience is not null,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = "sub",
                };
            });
        }
        else
        {
            auth.AddJwtBearer(o => o.TokenValidationParameters = new TokenValidationParameters { SignatureValidator = (_, _) => throw new SecurityTokenInvalidSignatureException("JWT is not configured (LowLatency:Auth:Jwt)") });
        }
    }

    private static List<SecurityKey> SigningKeys(JwtOptions jwt)
    {
        var keys = new List<SecurityKey>();
        if (jwt.SigningKey is { } k)
        {
            byte[] bytes = Convert.FromBase64String(k);
            if (bytes.Length < 32)
            {
                throw new InvalidOperationException("LowLatency:Auth:Jwt:SigningKey must be at least 32 bytes (base64)");
            }

            keys.Add(new SymmetricSecurityKey(bytes));
        }

        if (jwt.JwksFile is { } file)
        {
            keys.AddRange(new JsonWebKeySet(File.ReadAllText(file)).GetSigningKeys());
        }

        if (keys.Count == 0)
        {
            throw new InvalidOperationException("LowLatency:Auth:Jwt needs a SigningKey (base64) or a JwksFile");
        }

        return keys;
    }

    /// <summary>Metrics and health answer only as <see cref="AccessOptions.Metrics"/> and <see cref="AccessOptions.Health"/> allow.</summary>
    public static void GuardOperations(WebApplication app)
    {
        var access = app.Services.GetRequiredService<AccessOptions>();
        if (!access.Enabled || (access.Metrics == "open" && access.Health == "open"))
        {
            return;
        }

        app.Use(async (ctx, next) =>
        {
            var path = ctx.Request.Path;
            Refusal? refusal = null;
            if (path.StartsWithSegments("/metrics"))
            {
                refusal = await OperationsAsync(ctx, a => a.Metrics);
            }
            else if (path.StartsWithSegments("/v2/health"))
            {
                refusal = await OperationsAsync(ctx, a => a.Health);
            }

            if (refusal is not null)
            {
                await ErrorResponse.WriteAsync(ctx, WireFormat.Json, refusal);
                return;
            }

            await next(ctx);
        });
    }

    /// <summary>Whether the caller may infer on <paramref name="model"/>: null, or the 401 or 403 to answer.</summary>
    public static ValueTask<Refusal?> InferAsync(HttpContext ctx, AccessOptions access, string model)
    {
        if (!access.Enabled)
        {
            return default;
        }

        return CheckAsync(ctx, user => Scopes.MayInfer(user, model), $"'infer:{ClientText.Truncate(model, ClientText.MaxQuotedChars)}' (or 'infer:*')");
    }

    /// <summary>The repository and traffic endpoints: scope <c>admin</c>.</summary>
    public static ValueTask<Refusal?> AdminAsync(HttpContext ctx)
    {
        var access = ctx.RequestServices.GetRequiredService<AccessOptions>();
        return !access.Enabled ? default : CheckAsync(ctx, user => Scopes.Has(user, Scopes.Admin), "'admin'");
    }

    /// <summary>A model's metadata and readiness: inference on it, or admin.</summary>
    public static ValueTask<Refusal?> ModelAsync(HttpContext ctx, string model)
    {
        var access = ctx.RequestServices.GetRequiredService<AccessOptions>();
        return !access.Enabled ? default : CheckAsync(ctx, user => Scopes.MayInfer(user, model) || Scopes.Has(user, Scopes.Admin), $"'infer:{ClientText.Truncate(model, ClientText.MaxQuotedChars)}' or 'admin'");
    }

    /// <summary>Metrics and health, each as configured: open, authenticated or admin.</summary>
    public static ValueTask<Refusal?> OperationsAsync(HttpContext ctx, Func<AccessOptions, string> level)
    {
        var access = ctx.RequestServices.GetRequiredService<AccessOptions>();
        return !access.Enabled || level(access) == "open" ? default
            : CheckAsync(ctx, user => level(access) != "admin" || Scopes.Has(user, Scopes.Admin), "'admin'");
    }

    private static async ValueTask<Refusal?> CheckAsync(HttpContext ctx, Func<ClaimsPrincipal, bool> allowed, string needed)
    {
        var result = await ctx.AuthenticateAsync();
        if (!result.Succeeded)
        {
            string why = result.Failure?.Message is { } m ? $"authentication failed: {FirstSentence(m)}" : "authentication required: send a bearer token or an X-Api-Key";
            return new Refusal(StatusCodes.Status401Unauthorized, why, WwwAuthenticate: "Bearer");
        }

        ctx.User = result.Principal!;
        if (!allowed(result.Principal!))
        {
            return new Refusal(StatusCodes.Status403Forbidden, $"'{ClientOf(ctx)}' lacks the scope {needed}");
        }

        return null;
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }

    /// <summary>
    /// Who is calling, for rate limits and messages: the token's or key's subject, else the client
    /// certificate's subject (mTLS), else the remote address.
    /// </summary>
    public static string ClientOf(HttpContext ctx)
    {
        if (ctx.User.FindFirst("sub")?.Value is { Length: > 0 } sub)
        {
            return sub;
        }

        if (ctx.Connection.ClientCertificate is X509Certificate2 cert)
        {
            return cert.Subject;
        }

        return ctx.Connection.RemoteIpAddress?.ToString() ?? IPAddress.None.ToString();
    }
}
