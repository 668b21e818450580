using LowLatency.Engine.Config;
using LowLatency.Engine.Routing;

namespace LowLatency.Engine.Serving;

/// <summary>
/// A model and the versions of it being served, as one routing table publishes them: immutable.
/// Loading, unloading or a traffic change publishes a new one.
/// </summary>
public sealed class ServedModel
{
    private readonly ModelVersion[] _routed;

    internal ServedModel(ModelConfig config, IReadOnlyDictionary<long, ModelVersion> versions, IReadOnlyDictionary<long, int> traffic, bool trafficFromApi, RoutingEpoch epoch)
    {
        Config = config;
        Versions = versions;
        Latest = versions[versions.Keys.Max()];
        Traffic = traffic;
        TrafficFromApi = trafficFromApi;
        // The versions taking part in the split: the weighted ones, or the latest alone.
        var participants = new List<(ModelVersion Version, long Weight)>();
        if (traffic.Count == 0)
        {
            participants.Add((Latest, 1));
        }
        else
        {
            foreach (var (v, weight) in traffic.OrderBy(p => p.Key))
            {
                participants.Add((versions[v], weight));
            }
        }

        Participants = participants;
        _routed = [.. participants.Select(p => p.Version)];
        Router = new ModelRouter([.. participants.Select(p => (p.Version.Version, p.Version.Health, p.Weight))], epoch);
        FixedAnswer = config.Fallback is { Model: null } f ? new FixedAnswer(config, f.Outputs) : null;
    }

    public string Name => Config.Name;

    public ModelConfig Config { get; }

    /// <summary>Served versions, ascending.</summary>
    public IReadOnlyDictionary<long, ModelVersion> Versions { get; }

    /// <summary>The highest served version: what a request that names none gets when no traffic split is set.</summary>
    public ModelVersion Latest { get; }

    /// <summary>The traffic weights in force (empty: all to the latest).</summary>
    public IReadOnlyDictionary<long, int> Traffic { get; }

    /// <summary>Whether <see cref="Traffic"/> was set through the API (it then outlives reloads that keep its versions).</summary>
    public bool TrafficFromApi { get; }

    internal ModelRouter Router { get; }

    /// <summary>The fixed degraded answer, when the model's fallback is one.</summary>
    public FixedAnswer? FixedAnswer { get; }

    /// <summary>The versions taking part in the traffic split, with their configured weights.</summary>
    public IReadOnlyList<(ModelVersion Version, long Weight)> Participants { get; }

    /// <summary>The version for a request that names none; null when no version is healthy and the fallback applies.</summary>
    public ModelVersion? Pick(bool hasKey, ulong keyHash)
    {
        int c = Router.Pick(hasKey, keyHash);
        return c == ModelRouter.Fallback ? null : _routed[c];
    }
}
