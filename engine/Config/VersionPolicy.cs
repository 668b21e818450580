namespace LowLatency.Engine.Config;

/// <summary>Which versions of a model are served; Triton's default is the latest one.</summary>
public sealed record VersionPolicy(VersionPolicyKind Kind, int NumVersions, IReadOnlyList<long> Versions)
{
    public static readonly VersionPolicy LatestOne = new(VersionPolicyKind.Latest, 1, []);

    /// <summary>The versions to serve out of those present in the repository, ascending.</summary>
    public IReadOnlyList<long> Select(IEnumerable<long> available)
    {
        var sorted = available.Order().ToList();
        return Kind switch
        {
            VersionPolicyKind.All => sorted,
            VersionPolicyKind.Specific => sorted.Where(Versions.Contains).ToList(),
            _ => sorted.Skip(Math.Max(0, sorted.Count - NumVersions)).ToList(),
        };
    }
}
