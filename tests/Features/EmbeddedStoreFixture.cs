using LowLatency.Features.Definitions;
using LowLatency.Features.Serving;

namespace LowLatency.Tests.Features;

/// <summary>The example repository opened as shipped: its online store the embedded Garnet, started by the store itself.</summary>
public sealed class EmbeddedStoreFixture : IAsyncLifetime
{
    public FeatureStore Store { get; private set; } = null!;

    public async Task InitializeAsync() => Store = await FeatureStore.OpenAsync(FeatureRepositoryReader.Read(TempFeatureRepository.Example));

    public async Task DisposeAsync() => await Store.DisposeAsync();
}
