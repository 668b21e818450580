using LowLatency.Engine.Config;

namespace LowLatency.Engine.Serving;

/// <summary>A model and the versions of it being served.</summary>
public sealed class ServedModel(ModelConfig config, IReadOnlyDictionary<long, ModelVersion> versions)
{
    public string Name => Config.Name;

    public ModelConfig Config { get; } = config;

    /// <summary>Served versions, ascending.</summary>
    public IReadOnlyDictionary<long, ModelVersion> Versions { get; } = versions;

    /// <summary>The version a request that names none gets: the highest served.</summary>
    public ModelVersion Latest { get; } = versions.MaxBy(v => v.Key).Value;
}
