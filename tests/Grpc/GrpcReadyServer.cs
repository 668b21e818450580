using Grpc.Net.Client;
using Inference;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// What most gRPC tests begin with: a server started on a repository and ready (its models loaded),
/// an HTTP client on its REST listener and a gRPC client on its gRPC one, disposed in that reverse order.
/// </summary>
public sealed class GrpcReadyServer : IAsyncDisposable
{
    private GrpcReadyServer(WebApplication app, HttpClient http, GrpcChannel channel) =>
        (App, Http, Channel, Client) = (app, http, channel, GrpcWire.Client(channel));

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public GrpcChannel Channel { get; }

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; }

    public static async Task<GrpcReadyServer> StartAsync(string repository, string[]? extraArgs = null)
    {
        var (app, address) = await ServerFixture.StartAsync(repository, extraArgs);
        var http = new HttpClient { BaseAddress = address };
        try
        {
            await ServerFixture.WaitReadyAsync(http);
        }
        catch
        {
            http.Dispose();
            await app.DisposeAsync();
            throw;
        }

        return new GrpcReadyServer(app, http, GrpcWire.Channel(ServerFixture.GrpcAddressOf(app)));
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        Http.Dispose();
        await App.DisposeAsync();
    }
}
