using System.Net.Http.Headers;
using LowLatency.Host;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.Infrastructure;

/// <summary>The real server, on Kestrel over loopback with the embedded models, started once for a test collection.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public HttpClient Client { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The gRPC listener's address.</summary>
    public Uri GrpcAddress { get; private set; } = null!;

    public WebApplication App => _app!;

    public async Task InitializeAsync()
    {
        (_app, BaseAddress) = await StartAsync(RepoPaths.Models, extraArgs: ["--LowLatency:MaxRequestBodyBytes=1048576"]);
        GrpcAddress = GrpcAddressOf(_app);
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await WaitReadyAsync(Client);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Starts a server on an ephemeral loopback port; returns it and its address.</summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(string repository, string[]? extraArgs = null, Action<WebApplicationBuilder>? configure = null, Action<LowLatency.Engine.Serving.EngineOptions>? configureEngine = null)
    {
        // gRPC on an ephemeral port too (its default, Triton's 8001, would be shared by every server a run starts).
        string[] args = ["--urls", "http://127.0.0.1:0", "--grpc-urls", "http://127.0.0.1:0", "--model-repository", repository, "--Logging:LogLevel:Default=Warning", .. extraArgs ?? []];
        var app = LowLatencyServer.Build(args, configure, configureEngine);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    /// <summary>Where a started server's gRPC listener is bound.</summary>
    public static Uri GrpcAddressOf(WebApplication app) => new(app.Services.GetRequiredService<LowLatency.Host.Grpc.Listeners>().GrpcAddresses[0]);

    public static async Task WaitReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            using var r = await client.GetAsync("/v2/health/ready");
            if (r.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("server did not become ready");
    }

    public static HttpContent Body(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }
}
