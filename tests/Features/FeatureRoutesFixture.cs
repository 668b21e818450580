using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace LowLatency.Tests.Features;

/// <summary>
/// The server with the example feature repository (its embedded Garnet) and no models: Feast's
/// routes need no model, and a server without one starts in a moment. Bodies are capped at 64 KiB
/// so that the limit is reached with a small body.
/// </summary>
public sealed class FeatureRoutesFixture : IAsyncLifetime
{
    public const long MaxBody = 65536;

    private readonly TempRepository _models = new();
    private WebApplication? _app;

    public HttpClient Client { get; private set; } = null!;

    public WebApplication App => _app!;

    public async Task InitializeAsync()
    {
        (_app, var address) = await ServerFixture.StartAsync(_models.Root, ["--feature-repository", TempFeatureRepository.Example, $"--LowLatency:MaxRequestBodyBytes={MaxBody}"]);
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
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
    }
}
