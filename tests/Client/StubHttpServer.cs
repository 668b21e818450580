using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LowLatency.Tests.Client;

/// <summary>
/// A few lines of Kestrel that answer as a test scripts them (503s, 429s, stalls): for the client's
/// own policies (retries, deadlines, headers), which the real server cannot be made to show on cue.
/// Records each request's path, headers and body.
/// </summary>
public sealed class StubHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private StubHttpServer(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public int Requests => Volatile.Read(ref _requests);

    public ConcurrentQueue<(string Path, IHeaderDictionary Headers, byte[] Body)> Received { get; } = new();

    /// <param name="answer">Writes the answer to the request with the given 1-based number.</param>
    /// <param name="port">0 for any free port.</param>
    public static async Task<StubHttpServer> StartAsync(Func<HttpContext, int, Task> answer, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var stub = new StubHttpServer(app);
        app.Run(async ctx =>
        {
            int n = Interlocked.Increment(ref stub._requests);
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            var headers = new HeaderDictionary();
            foreach (var h in ctx.Request.Headers)
            {
                headers[h.Key] = h.Value;
            }

            stub.Received.Enqueue((ctx.Request.Path.Value ?? string.Empty, headers, body.ToArray()));
            await answer(ctx, n);
        });
        await app.StartAsync();
        stub.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return stub;
    }

    /// <summary>A loopback port nothing listens on (as far as a bind and release can tell).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A MessagePack answer of model "stub" with one FP32 output "y" = [1.5], and the given Server-Timing.</summary>
    public static Task AnswerAsync(HttpContext ctx, string? id = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(id is null ? 3 : 4);
        w.Write("model_name");
        w.Write("stub");
        w.Write("model_version");
        w.Write("1");
        if (id is not null)
        {
            w.Write("id");
            w.Write(id);
        }

        w.Write("outputs");
        w.WriteArrayHeader(1);
        w.WriteMapHeader(4);
        w.Write("name");
        w.Write("y");
        w.Write("datatype");
        w.Write("FP32");
        w.Write("shape");
        w.WriteArrayHeader(1);
        w.Write(1);
        w.Write("data");
        w.Write(BitConverter.GetBytes(1.5f));
        w.Flush();
        ctx.Response.ContentType = "application/msgpack";
        ctx.Response.Headers["Server-Timing"] = "queue;dur=0.012, compute;dur=0.034, overhead;dur=0.002";
        ctx.Response.ContentLength = buffer.WrittenCount;
        return ctx.Response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    /// <summary>An error answer in the server's form.</summary>
    public static Task RefuseAsync(HttpContext ctx, int status, string message, string? retryAfter = null)
    {
        ctx.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            ctx.Response.Headers.RetryAfter = retryAfter;
        }

        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new { error = message }));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
