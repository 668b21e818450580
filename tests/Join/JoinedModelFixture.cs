using LowLatency.Engine.Config;
using LowLatency.Engine.Serving;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Join;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// The example feature repository on its embedded store, a joiner over it, and an engine serving
/// the candidate ranker, its <c>features</c> linked by the joiner; the golden's rows pushed.
/// </summary>
public class JoinedModelFixture : IAsyncLifetime
{
    private readonly string _features;
    private readonly Func<PushRequest, PushRequest> _push;

    public JoinedModelFixture()
        : this(TempFeatureRepository.Example, push => push)
    {
    }

    /// <summary>Another feature repository than the example's, each golden push changed by <paramref name="push"/> first.</summary>
    protected JoinedModelFixture(string features, Func<PushRequest, PushRequest> push) => (_features, _push) = (features, push);

    public FeatureStore Store { get; private set; } = null!;

    public FeatureJoiner Joiner { get; private set; } = null!;

    public InferenceEngine Engine { get; private set; } = null!;

    public JoinedGolden Golden { get; } = JoinedGolden.Load();

    public ModelVersion Model
    {
        get
        {
            Assert.True(Engine.TryGetModel(JoinedGolden.Model, out var served));
            return served.Latest;
        }
    }

    public async Task InitializeAsync()
    {
        Store = await FeatureStore.OpenAsync(FeatureRepositoryReader.Read(_features));
        var plans = new JoinPlans(Store.Repository);
        Joiner = new FeatureJoiner(plans, Store.Online);
        foreach (var push in Golden.PushRequests(DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            await Store.Server.PushAsync(_push(push));
        }

        Engine = new InferenceEngine(new EngineOptions
        {
            ModelRepository = RepoPaths.Models,
            ModelControlMode = ModelControlMode.Explicit,
            StartupModels = [JoinedGolden.Model],
            CheckConfig = plans.Check,
        });
        Engine.Scan();
        Engine.Load();
    }

    public virtual async Task DisposeAsync()
    {
        Engine.Dispose();
        await Store.DisposeAsync();
    }
}
