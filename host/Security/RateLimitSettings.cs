namespace LowLatency.Host.Security;

/// <summary>
/// Rate limits bound from <c>LowLatency:RateLimits</c>: <c>PerClient</c> (one bucket per client:
/// token or API-key subject, else client-certificate subject, else remote address) and
/// <c>PerModel</c> (by model name, <c>*</c> for every model without its own).
/// </summary>
internal sealed class RateLimitSettings
{
    public RateLimitOptions? PerClient { get; set; }

    public Dictionary<string, RateLimitOptions> PerModel { get; set; } = new(StringComparer.Ordinal);

    public bool Enabled => PerClient is not null || PerModel.Count > 0;

    /// <summary>What is wrong with these settings, one line each naming the setting (empty when nothing is).</summary>
    public IEnumerable<string> Problems()
    {
        if (PerClient is { } perClient && !perClient.IsValid)
        {
            yield return Invalid("PerClient");
        }

        foreach (var (model, o) in PerModel)
        {
            if (!o.IsValid)
            {
                yield return Invalid($"PerModel:{model}");
            }
        }
    }

    private static string Invalid(string where) => $"LowLatency:RateLimits:{where}: TokensPerSecond must be positive and Burst at least 1";
}
