using System.Net.Http.Json;
using LowLatency.Tests.Features;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace LowLatency.Tests.Join;

/// <summary>
/// The server serving the candidate ranker over a copy of the example feature repository whose
/// <c>user</c> entity has STRING ids (<see cref="StringIds"/>), the golden's rows pushed through
/// Feast's <c>POST /push</c> with string user ids.
/// </summary>
public sealed class StringIdServerFixture : IAsyncLifetime
{
    private readonly TempRepository _models = new();
    private readonly TempFeatureRepository _features = StringIds.Repository();
    private WebApplication? _app;

    public JoinedGolden Golden { get; } = JoinedGolden.Load();

    public HttpClient Client { get; private set; } = null!;

    public WebApplication App => _app!;

    public async Task InitializeAsync()
    {
        JoinedServerFixture.AddRanker(_models);
        (_app, var address) = await ServerFixture.StartAsync(_models.Root, ["--feature-repository", _features.Root]);
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        await ServerFixture.WaitReadyAsync(Client);
        foreach (var body in StringIds.PushBodies(Golden, DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            using var pushed = await Client.PostAsJsonAsync("/push", body);
            Assert.True(pushed.IsSuccessStatusCode, await pushed.Content.ReadAsStringAsync());
        }
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _models.Dispose();
        _features.Dispose();
    }
}
