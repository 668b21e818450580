using System.Globalization;
using LowLatency.Features.Definitions;
using LowLatency.Features.Store;
using LowLatency.Streams.Sources;
using Microsoft.Extensions.Hosting;

namespace LowLatency.Streams.Processing;

/// <summary>
/// The processor as a hosted service, for the server's process (the host registers it with its
/// options) or the runner's: start reads the feature repository, connects to the stream server and
/// to the online stores of the source's views (or uses <see cref="Store"/>), and starts the
/// processor's thread; stop checkpoints and releases every partition, so another process takes them
/// over at once.
/// </summary>
public sealed class StreamProcessorService(StreamProcessorOptions options, TimeProvider? time = null) : IHostedService, IAsyncDisposable
{
    private readonly List<RedisOnlineStore> _stores = [];
    private IStreamSource? _source;

    public StreamProcessor? Processor { get; private set; }

    /// <summary>
    /// The online store to write to instead of connecting to the repository's: in the server's
    /// process, its feature store's <c>Online</c> (the near cache in front of its stores), so that an
    /// embedded Garnet is the same one the server reads and a written row drops the cached one at once.
    /// Given with <see cref="Repository"/>, the feature store's own: a store knows its views by instance.
    /// </summary>
    public IOnlineStore? Store { get; init; }

    /// <summary>The repository already read (the server's feature store's), instead of reading <see cref="StreamProcessorOptions.Repository"/>.</summary>
    public FeatureRepository? Repository { get; init; }

    /// <summary>Told when the processor's loop stops on an error it cannot go on from (the server logs it as critical).</summary>
    public Action<Exception>? Failed { get; init; }

    /// <summary>This process's member name in the group.</summary>
    public string Member { get; } = options.Member is { Length: > 0 } m ? m
        : string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Random.Shared.Next(0x10000):x4}");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var repository = Repository ?? FeatureRepositoryReader.Read(options.Repository);
        var definition = (options.Source is { } name ? repository.StreamSource(name) : repository.StreamSources.Count == 1 ? repository.StreamSources[0] : null)
            ?? throw new FeatureRepositoryException(repository.Directory, options.Source is null
                ? $"holds {repository.StreamSources.Count} stream sources: name the one to read (Source)"
                : $"has no stream source \"{options.Source}\"");
        var online = Store ?? await StoresAsync(repository, definition).ConfigureAwait(false);
        _source = await RedisStreamSource.ConnectAsync(options.ConnectionString, definition, options.Group, Member, options.LeaseMs).ConfigureAwait(false);
        Processor = new StreamProcessor(options, definition, _source, online, time) { Failed = Failed };
        Processor.Start();
    }

    private async Task<IOnlineStore> StoresAsync(FeatureRepository repository, StreamSource definition)
    {
        var byView = new IOnlineStore[repository.FeatureViews.Count];
        var connected = new Dictionary<string, RedisOnlineStore>(StringComparer.Ordinal);
        foreach (var view in definition.Views)
        {
            if (!connected.TryGetValue(view.OnlineStore, out var store))
            {
                store = await RedisOnlineStore.ConnectAsync(repository.OnlineStore(view.OnlineStore)!, repository).ConfigureAwait(false);
                connected.Add(view.OnlineStore, store);
                _stores.Add(store);
            }

            byView[view.Index] = store;
        }

        // Views of other sources are never written here; the router needs a store in every slot.
        for (int i = 0; i < byView.Length; i++)
        {
            byView[i] ??= _stores[0];
        }

        return _stores.Count == 1 ? _stores[0] : new StoreRouter(byView);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Processor is { } processor)
        {
            await processor.DisposeAsync().ConfigureAwait(false);
            Processor = null;
        }

        if (_source is { } source)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            _source = null;
        }

        foreach (var store in _stores)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }

        _stores.Clear();
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
