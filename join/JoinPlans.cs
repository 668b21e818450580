using System.Runtime.CompilerServices;
using LowLatency.Engine.Config;
using LowLatency.Engine.Requests;
using LowLatency.Features.Definitions;

namespace LowLatency.Join;

/// <summary>
/// The models' joins linked to one feature repository, each with its scratch pool, by configuration.
/// <see cref="Check"/> is the engine's <c>CheckConfig</c>: it links a configuration as the model is
/// read, so that a join that does not fit the repository stops the read naming the field. It needs
/// only the repository, so it can run before the store is open.
/// </summary>
public sealed class JoinPlans(FeatureRepository repository)
{
    private readonly ConditionalWeakTable<ModelConfig, ScratchPool> _plans = [];

    public FeatureRepository Repository { get; } = repository;

    /// <summary>
    /// Links a configuration's <c>features</c> to the repository: throws <see cref="ModelConfigException"/>
    /// naming <paramref name="file"/> and the field when a feature, view or entity does not exist or
    /// does not fit its input. Returns the configuration to serve: its entity inputs typed as the
    /// repository's entities are (BYTES for STRING ids).
    /// </summary>
    public ModelConfig Check(ModelConfig config, string file)
    {
        if (config.Features is null)
        {
            return config;
        }

        var typed = JoinPlan.WithIdTypes(config, Repository, file);
        _plans.AddOrUpdate(typed, new ScratchPool(JoinPlan.Link(typed, Repository, file)));
        return typed;
    }

    internal ScratchPool For(ModelConfig config) => _plans.TryGetValue(config, out var pool) ? pool : LinkLate(config);

    // A configuration made after its check (a traffic change copies it): linked on first use.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ScratchPool LinkLate(ModelConfig config)
    {
        try
        {
            return _plans.GetValue(config, c => new ScratchPool(JoinPlan.Link(c, Repository, "config.json")));
        }
        catch (ModelConfigException e)
        {
            throw new InferenceException(InferenceStatus.Unavailable, $"model '{config.Name}': {e.Message}");
        }
    }
}
