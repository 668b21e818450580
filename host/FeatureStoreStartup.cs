using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;

namespace LowLatency.Host;

/// <summary>
/// The feature store of <c>LowLatency:FeatureRepository</c>: the repository read before anything
/// starts, so that an invalid one stops start-up naming its file and field (as an invalid model
/// configuration does), then the store opened and registered as a plain <see cref="FeatureStore"/>
/// singleton, closed once the host has stopped.
/// </summary>
internal static class FeatureStoreStartup
{
    /// <summary>The repository the settings name, read; null when none is set.</summary>
    public static FeatureRepository? Read(ServerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.FeatureRepository))
        {
            return null;
        }

        try
        {
            return FeatureRepositoryReader.Read(options.FeatureRepository);
        }
        catch (FeatureRepositoryException e)
        {
            throw new StartupRefusedException($"feature repository (LowLatency:FeatureRepository): {e.Message}");
        }
    }

    /// <summary>
    /// Opens the store (an embedded Garnet starts here) and registers it. Opened last in the build,
    /// after every check that could still refuse start-up, so that a refusal leaves nothing running.
    /// </summary>
    public static FeatureStore Open(WebApplicationBuilder builder, FeatureRepository repository)
    {
        FeatureStore store;
        try
        {
            // Start-up is synchronous (the builder's); opening connects and warms the stores once.
            store = FeatureStore.OpenAsync(repository).GetAwaiter().GetResult();
        }
        catch (FeatureRepositoryException e)
        {
            // A server that answers but is not what redis_type says.
            throw new StartupRefusedException($"feature repository (LowLatency:FeatureRepository): {e.Message}");
        }

        builder.Services.AddSingleton(store);
        return store;
    }

    /// <summary>
    /// Closes the store when the host has stopped: after Kestrel has answered its last request, so no
    /// feature read is cut. Registered as an instance, the container would not dispose it, and the store
    /// is only asynchronously disposable, which a synchronous dispose of the container would refuse.
    /// </summary>
    public static void CloseWhenStopped(WebApplication app, FeatureStore store) =>
        app.Lifetime.ApplicationStopped.Register(() => store.DisposeAsync().AsTask().GetAwaiter().GetResult());
}
