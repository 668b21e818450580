using LowLatency.Features.Cache;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;

namespace LowLatency.Features.Serving;

/// <summary>
/// A feature repository put to work, as Feast's <c>FeatureStore</c>: a connection to each online
/// store its views use (a Garnet started in this process for the embedded kind), the near cache in
/// front of them, and the feature server's operations. <see cref="Online"/> is the hot path's read:
/// rows straight into the caller's buffers.
/// </summary>
public sealed class FeatureStore : IAsyncDisposable
{
    private readonly IReadOnlyList<RedisOnlineStore> _stores;

    private FeatureStore(FeatureRepository repository, IReadOnlyList<RedisOnlineStore> stores, NearCache cache, FeatureServer server)
    {
        Repository = repository;
        _stores = stores;
        Cache = cache;
        Server = server;
    }

    public FeatureRepository Repository { get; }

    /// <summary>The stores in use, by name.</summary>
    public IReadOnlyList<RedisOnlineStore> Stores => _stores;

    public NearCache Cache { get; }

    /// <summary>Reads and writes through the near cache.</summary>
    public IOnlineStore Online => Cache;

    public FeatureServer Server { get; }

    /// <summary>
    /// Connects the stores the repository's views use; a store no view uses is left alone (an
    /// embedded one is not started). Fails when a server answers but is of the wrong
    /// <c>redis_type</c>; a server that is down does not fail it (see <see cref="RedisOnlineStore.ConnectAsync"/>).
    /// </summary>
    public static async Task<FeatureStore> OpenAsync(FeatureRepository repository, FeatureStoreOptions? options = null)
    {
        options ??= new FeatureStoreOptions();
        var connected = new Dictionary<string, RedisOnlineStore>(StringComparer.Ordinal);
        try
        {
            var byView = new IOnlineStore[repository.FeatureViews.Count];
            foreach (var view in repository.FeatureViews)
            {
                if (!connected.TryGetValue(view.OnlineStore, out var store))
                {
                    var definition = options.OnlineStores.FirstOrDefault(s => s.Name == view.OnlineStore) ?? repository.OnlineStore(view.OnlineStore)!;
                    store = await RedisOnlineStore.ConnectAsync(definition, repository).ConfigureAwait(false);
                    connected.Add(view.OnlineStore, store);
                }

                byView[view.Index] = store;
            }

            IOnlineStore backing = connected.Count == 1 ? connected.Values.First() : new StoreRouter(byView);
            var cache = new NearCache(backing, options.NearCache ?? repository.NearCache, options.Time);
            return new FeatureStore(repository, [.. connected.Values], cache, new FeatureServer(repository, cache, options.Time));
        }
        catch
        {
            foreach (var store in connected.Values)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cache.Dispose();
        foreach (var store in _stores)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }
}
