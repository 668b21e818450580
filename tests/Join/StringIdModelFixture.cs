using LowLatency.Tests.Features;

namespace LowLatency.Tests.Join;

/// <summary>
/// <see cref="JoinedModelFixture"/> over the feature repository whose <c>user</c> entity has STRING
/// ids (<see cref="StringIds"/>): the same model, the golden's rows pushed with string user ids.
/// </summary>
public sealed class StringIdModelFixture : JoinedModelFixture
{
    private readonly TempFeatureRepository _features;

    public StringIdModelFixture()
        : this(StringIds.Repository())
    {
    }

    private StringIdModelFixture(TempFeatureRepository features)
        : base(features.Root, StringIds.Push) => _features = features;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _features.Dispose();
    }
}
