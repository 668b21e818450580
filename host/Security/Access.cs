using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using LowLatency.Engine.Config;
using LowLatency.Host.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
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

    /// <param name="jwt">The loaded JWT keys, when <see cref="AccessOptions.Jwt"/> is set (<see cref="JwtKeys.Load"/>).</param>
    public static void AddAuthentication(WebApplicationBuilder builder, AccessOptions access, JwtKeys? jwt)
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
        if (access.Jwt is { } options && jwt is not null)
        {
            auth.AddJwtBearer(o =>
            {
                // Claim names as the token has them (sub, scope), not mapped to WS-* URIs.
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    IssuerSigningKeys = jwt.Keys,
                    ValidateIssuerSigningKey = true,
                    // Only algorithms the keys are long enough for: IdentityModel's own refusal of
                    // a short key comes as IDX10517, which tells the client nothing.
                    ValidAlgorithms = jwt.Algorithms,
                    ValidIssuer = options.Issuer,
                    ValidateIssuer = options.Issuer is not null,
                    ValidAudience = options.Audience,
                    ValidateAudience = options.Audience is not null,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = "sub",
                };
                o.Events = new JwtBearerEvents { OnAuthenticationFailed = ctx => ExplainAlgorithm(ctx, jwt.Algorithms) };
            });
        }
        else
        {
            auth.AddJwtBearer(o => o.TokenValidationParameters = new TokenValidationParameters { SignatureValidator = (_, _) => throw new SecurityTokenInvalidSignatureException("JWT is not configured (LowLatency:Auth:Jwt)") });
        }
    }

    /// <summary>On a failed token only: when its algorithm is not one accepted, say so instead of IdentityModel's message.</summary>
    private static Task ExplainAlgorithm(AuthenticationFailedContext ctx, IReadOnlyList<string> accepted)
    {
        string header = ctx.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                string alg = new JsonWebToken(header["Bearer ".Length..].Trim()).Alg;
                if (!accepted.Contains(alg, StringComparer.Ordinal))
                {
                    ctx.Fail($"the token's algorithm '{alg}' is not accepted (LowLatency:Auth:Jwt:Algorithms)");
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or SecurityTokenException)
            {
                // Not a JWT at all: IdentityModel's message stands.
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Metrics and health answer only as <see cref="AccessOptions.Metrics"/> and <see cref="AccessOptions.Health"/> allow.</summary>
    public static void GuardOperations(WebApplication app)
    {
        var access = app.Services.GetRequiredService<AccessOptions>();
        if (!access.Enabled || (access.Metrics == AccessLevel.Open && access.Health == AccessLevel.Open))
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
    public static ValueTask<Refusal?> InferAsync(HttpContext ctx, AccessOptions access, string model) =>
        access.Enabled ? InferCheckAsync(ctx, model) : default;

    // Apart, because a lambda capturing a parameter makes its method allocate the closure on entry,
    // whether the lambda is reached or not: every inference request paid for it with access off.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ValueTask<Refusal?> InferCheckAsync(HttpContext ctx, string model) =>
        CheckAsync(ctx, user => Scopes.MayInfer(user, model), $"'infer:{ClientText.Truncate(model, ClientText.MaxQuotedChars)}' (or 'infer:*')");

    /// <summary>
    /// Whether the caller presents a valid credential at all: null, or the 401 to answer. For a
    /// request whose model is known only from its body (gRPC), checked before the body is read; the
    /// scope follows with <see cref="InferAsync"/>, which reuses this authentication.
    /// </summary>
    public static ValueTask<Refusal?> AuthenticateAsync(HttpContext ctx, AccessOptions access) =>
        !access.Enabled ? default : CheckAsync(ctx, _ => true, "none");

    /// <summary>Whether the caller may use the repository (scope <c>admin</c>), with the options at hand.</summary>
    public static ValueTask<Refusal?> AdminAsync(HttpContext ctx, AccessOptions access) =>
        !access.Enabled ? default : CheckAsync(ctx, user => Scopes.Has(user, Scopes.Admin), "'admin'");

    /// <summary>The feature server's routes: <paramref name="scope"/> is <see cref="Scopes.FeaturesRead"/> or <see cref="Scopes.FeaturesWrite"/>.</summary>
    public static ValueTask<Refusal?> FeaturesAsync(HttpContext ctx, AccessOptions access, string scope) =>
        !access.Enabled ? default : CheckAsync(ctx, user => Scopes.Has(user, scope), $"'{scope}'");

    /// <summary>A model's metadata and readiness, with the options at hand: inference on it, or admin.</summary>
    public static ValueTask<Refusal?> ModelAsync(HttpContext ctx, AccessOptions access, string model) =>
        !access.Enabled ? default : CheckAsync(ctx, user => Scopes.MayInfer(user, model) || Scopes.Has(user, Scopes.Admin), $"'infer:{ClientText.Truncate(model, ClientText.MaxQuotedChars)}' or 'admin'");

    /// <summary>
    /// Whether the caller, already authenticated on this request (<see cref="AuthenticateAsync"/>), may
    /// infer on <paramref name="model"/>: null, or the 403. Synchronous, reading the request's user:
    /// a gRPC stream checks each of its requests so, concurrently, without authenticating again.
    /// </summary>
    public static Refusal? InferScope(HttpContext ctx, AccessOptions access, string model) =>
        !access.Enabled || Scopes.MayInfer(ctx.User, model) ? null
            : new Refusal(StatusCodes.Status403Forbidden, $"'{ClientOf(ctx)}' lacks the scope 'infer:{ClientText.Truncate(model, ClientText.MaxQuotedChars)}' (or 'infer:*')");

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
    public static ValueTask<Refusal?> OperationsAsync(HttpContext ctx, Func<AccessOptions, AccessLevel> level)
    {
        var access = ctx.RequestServices.GetRequiredService<AccessOptions>();
        return !access.Enabled || level(access) == AccessLevel.Open ? default
            : CheckAsync(ctx, user => level(access) != AccessLevel.Admin || Scopes.Has(user, Scopes.Admin), "'admin'");
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
