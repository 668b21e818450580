namespace LowLatency.Features.Definitions;

/// <summary>What <c>feature_store.json</c> holds: the project, the online stores, the near cache's bounds.</summary>
internal sealed record FeatureStoreFile(string Project, IReadOnlyList<OnlineStoreDefinition> OnlineStores, NearCacheSettings NearCache);
