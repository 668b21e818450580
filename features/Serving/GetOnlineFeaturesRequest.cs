namespace LowLatency.Features.Serving;

/// <summary>
/// The body of Feast's <c>POST /get-online-features</c>: features as <c>view:feature</c> references
/// or a feature service's name, and the entity rows as columns (join key → one id per row).
/// Entity ids are long (or any integer, or a JSON number) for INT64 entities, strings for STRING ones.
/// </summary>
public sealed class GetOnlineFeaturesRequest
{
    public IReadOnlyList<string>? Features { get; init; }

    public string? FeatureService { get; init; }

    public required IReadOnlyDictionary<string, IReadOnlyList<object?>> Entities { get; init; }

    /// <summary>Names features <c>view__feature</c> in the answer instead of <c>feature</c>.</summary>
    public bool FullFeatureNames { get; init; }
}
