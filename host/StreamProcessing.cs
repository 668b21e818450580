using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Streams.Processing;

namespace LowLatency.Host;

/// <summary>
/// The stream processor inside the server (<c>LowLatency:Streams:Enabled</c>): a hosted service on
/// threads of its own that computes the feature repository's stream views and writes them through
/// the server's feature store, so that a row it writes drops the cached one at once and an embedded
/// Garnet is the one the server reads. Its other settings are <see cref="StreamProcessorOptions"/>'s,
/// under <c>LowLatency:Streams</c>; the repository is the server's (<c>LowLatency:FeatureRepository</c>).
/// </summary>
internal static class StreamProcessing
{
    /// <summary>The processor's settings when it is enabled; null when it is not. Refuses start-up when it cannot run.</summary>
    public static StreamProcessorOptions? Read(IConfigurationSection section, FeatureRepository? repository)
    {
        if (!section.GetValue<bool>("Enabled"))
        {
            return null;
        }

        var options = SettingsBinder.Bind<StreamProcessorOptions>(section);
        if (repository is null)
        {
            throw new StartupRefusedException("LowLatency:Streams:Enabled needs a feature repository whose stream views to compute (--feature-repository PATH)");
        }

        if (options.Source is { } name ? repository.StreamSource(name) is null : repository.StreamSources.Count != 1)
        {
            throw new StartupRefusedException(options.Source is null
                ? $"LowLatency:Streams: the feature repository {repository.Directory} holds {repository.StreamSources.Count} stream sources: name the one to read (LowLatency:Streams:Source)"
                : $"LowLatency:Streams:Source: the feature repository {repository.Directory} has no stream source '{options.Source}'");
        }

        return options;
    }

    /// <summary>
    /// Registers the processor, started after the server's other services and stopped before the
    /// feature store is closed (at ApplicationStopped): it checkpoints and releases its partitions.
    /// </summary>
    public static void Add(WebApplicationBuilder builder, StreamProcessorOptions options, FeatureStore features) =>
        builder.Services.AddHostedService(services =>
        {
            var log = services.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory);
            return new StreamProcessorService(options)
            {
                Store = features.Online,
                Repository = features.Repository,
                // Inference serves on; the views the processor computes stop being updated, and their rows age out by their TTL.
                Failed = e => log.LogCritical(e, "the stream processor stopped: stream views are no longer computed until the server is restarted"),
            };
        });

    public const string LogCategory = "LowLatency.Streams";
}
