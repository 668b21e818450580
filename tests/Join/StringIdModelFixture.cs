using LowLatency.Engine.Serving;
using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;
using LowLatency.Join;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Join;

/// <summary>
/// <see cref="JoinedModelFixture"/> over the feature repository whose <c>user</c> entity has STRING
/// ids (<see cref="StringIds"/>): the same model, the golden's rows pushed with string user ids.
/// </summary>
public sealed class StringIdModelFixture : IAsyncLifetime
{
    private readonly TempFeatureRepository _features = StringIds.Repository();

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
        Store = await FeatureStore.OpenAsync(FeatureRepositoryReader.Read(_features.Root));
        var plans = new JoinPlans(Store.Repository);
        Joiner = new FeatureJoiner(plans, Store.Online);
        foreach (var push in Golden.PushRequests(DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            var df = push.Df.ToDictionary(c => c.Key, c => c.Key != StringIds.Input
                ? c.Value
                : (IReadOnlyList<object?>)[.. c.Value.Select(i => (object?)StringIds.Of(((System.Text.Json.JsonElement)i!).GetInt64()))]);
            await Store.Server.PushAsync(new PushRequest { PushSourceName = push.PushSourceName, Df = df });
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

    public async Task DisposeAsync()
    {
        Engine.Dispose();
        await Store.DisposeAsync();
        _features.Dispose();
    }
}
