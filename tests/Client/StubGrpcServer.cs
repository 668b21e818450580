using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LowLatency.Tests.Client;

/// <summary>Kestrel serving <see cref="StubGrpcService"/> over cleartext HTTP/2, for the client's gRPC transport until the real server serves gRPC.</summary>
public sealed class StubGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StubGrpcServer(WebApplication app, StubGrpcService.Script script)
    {
        _app = app;
        Script = script;
    }

    public StubGrpcService.Script Script { get; }

    public Uri Address { get; private set; } = null!;

    public static async Task<StubGrpcServer> StartAsync(StubGrpcService.Script? script = null)
    {
        script ??= new StubGrpcService.Script();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(script);
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 64 * 1024 * 1024);
        var app = builder.Build();
        app.MapGrpcService<StubGrpcService>();
        await app.StartAsync();
        var stub = new StubGrpcServer(app, script)
        {
            Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
        };
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
