namespace LowLatency.Features.Serving;

/// <summary>
/// The answer of <c>POST /get-online-features</c>, column-oriented as Feast's: <see cref="FeatureNames"/>
/// (Feast's <c>metadata.feature_names</c>) names the columns, entity join keys first, and
/// <see cref="Results"/> holds one <see cref="FeatureVector"/> per name, in the same order.
/// </summary>
public sealed class OnlineFeaturesResponse(IReadOnlyList<string> featureNames, IReadOnlyList<FeatureVector> results)
{
    public IReadOnlyList<string> FeatureNames { get; } = featureNames;

    public IReadOnlyList<FeatureVector> Results { get; } = results;
}
