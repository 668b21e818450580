namespace LowLatency.Features.Definitions;

/// <summary>
/// A feature repository as read from its folder: the project, its online stores and near-cache
/// bounds (<c>feature_store.json</c>), and the entities, push sources, feature views and feature
/// services of its definition files. Immutable once read.
/// </summary>
public sealed class FeatureRepository
{
    public const int FormatVersion = 1;

    private readonly Dictionary<string, EntityDefinition> _entities;
    private readonly Dictionary<string, FeatureView> _views;
    private readonly Dictionary<string, FeatureService> _services;
    private readonly Dictionary<string, PushSource> _pushSources;
    private readonly Dictionary<string, OnlineStoreDefinition> _stores;

    public FeatureRepository(
        string directory,
        string project,
        IReadOnlyList<OnlineStoreDefinition> onlineStores,
        NearCacheSettings nearCache,
        IReadOnlyList<EntityDefinition> entities,
        IReadOnlyList<PushSource> pushSources,
        IReadOnlyList<FeatureView> featureViews,
        IReadOnlyList<FeatureService> featureServices)
    {
        Directory = directory;
        Project = project;
        OnlineStores = onlineStores;
        NearCache = nearCache;
        Entities = entities;
        PushSources = pushSources;
        FeatureViews = featureViews;
        FeatureServices = featureServices;
        _stores = onlineStores.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _entities = entities.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _pushSources = pushSources.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _views = featureViews.ToDictionary(v => v.Name, StringComparer.Ordinal);
        _services = featureServices.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }

    /// <summary>The folder it was read from.</summary>
    public string Directory { get; }

    /// <summary>Feast's project: part of every key, so several repositories can share one Redis.</summary>
    public string Project { get; }

    public IReadOnlyList<OnlineStoreDefinition> OnlineStores { get; }

    public NearCacheSettings NearCache { get; }

    public IReadOnlyList<EntityDefinition> Entities { get; }

    public IReadOnlyList<PushSource> PushSources { get; }

    /// <summary>Every view; a view's <see cref="FeatureView.Index"/> is its position here.</summary>
    public IReadOnlyList<FeatureView> FeatureViews { get; }

    public IReadOnlyList<FeatureService> FeatureServices { get; }

    /// <summary>The partitioned event streams that stream views aggregate.</summary>
    public IReadOnlyList<StreamSource> StreamSources { get; init; } = [];

    public StreamSource? StreamSource(string name) => StreamSources.FirstOrDefault(s => s.Name == name);

    public EntityDefinition? Entity(string name) => _entities.GetValueOrDefault(name);

    public FeatureView? FeatureView(string name) => _views.GetValueOrDefault(name);

    public FeatureService? FeatureService(string name) => _services.GetValueOrDefault(name);

    public PushSource? PushSource(string name) => _pushSources.GetValueOrDefault(name);

    public OnlineStoreDefinition? OnlineStore(string name) => _stores.GetValueOrDefault(name);
}
