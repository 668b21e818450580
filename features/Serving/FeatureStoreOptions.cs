using LowLatency.Features.Definitions;

namespace LowLatency.Features.Serving;

/// <summary>What a server's settings may change of a repository's <c>feature_store.json</c> when it opens the store.</summary>
public sealed class FeatureStoreOptions
{
    /// <summary>Stores that replace those of the same name in <c>feature_store.json</c> (a Redis for the embedded default, say).</summary>
    public IReadOnlyList<OnlineStoreDefinition> OnlineStores { get; init; } = [];

    /// <summary>The near cache's bounds instead of the file's.</summary>
    public NearCacheSettings? NearCache { get; init; }

    /// <summary>The clock of max ages and the cache; the system's unless a test gives its own.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
