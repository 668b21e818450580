namespace LowLatency.Tests.Join;

/// <summary>
/// The server serving the candidate ranker over a copy of the example feature repository whose
/// <c>user</c> entity has STRING ids (<see cref="StringIds"/>), the golden's rows pushed through
/// Feast's <c>POST /push</c> with string user ids.
/// </summary>
public sealed class StringIdServerFixture : JoinedServerFixture
{
    private readonly Features.TempFeatureRepository _features;

    public StringIdServerFixture()
        : this(StringIds.Repository())
    {
    }

    private StringIdServerFixture(Features.TempFeatureRepository features)
        : base(features.Root, StringIds.PushBodies) => _features = features;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _features.Dispose();
    }
}
