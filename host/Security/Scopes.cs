using System.Security.Claims;

namespace LowLatency.Host.Security;

/// <summary>
/// Scopes as claims carry them: OAuth 2's space-separated <c>scope</c> claim, Azure's <c>scp</c>,
/// or one claim per scope. <c>infer:&lt;model&gt;</c> or <c>infer:*</c> grant inference and a model's
/// metadata; <c>admin</c> grants the repository and traffic endpoints; <c>features:read</c> and
/// <c>features:write</c> grant the feature server's reads and pushes, each on its own (a service that
/// pushes features need not read them, nor a ranker push them).
/// </summary>
internal static class Scopes
{
    public const string Admin = "admin";

    /// <summary><c>POST /get-online-features</c>.</summary>
    public const string FeaturesRead = "features:read";

    /// <summary><c>POST /push</c>.</summary>
    public const string FeaturesWrite = "features:write";

    public static bool Has(ClaimsPrincipal user, string scope)
    {
        foreach (var claim in user.Claims)
        {
            if (claim.Type is not ("scope" or "scp"))
            {
                continue;
            }

            foreach (var s in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (s == scope)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Inference on <paramref name="model"/>: <c>infer:&lt;model&gt;</c> or <c>infer:*</c>.</summary>
    public static bool MayInfer(ClaimsPrincipal user, string model) => Has(user, "infer:*") || Has(user, "infer:" + model);
}
