using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using LowLatency.Host;
using LowLatency.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LowLatency.Tests.EndToEnd;

/// <summary>
/// Kestrel's own settings from the Kestrel section (<c>Kestrel:Limits</c>, <c>Kestrel:Limits:Http2</c>):
/// they take effect, on both listeners.
/// </summary>
public sealed class KestrelSettingsTests
{
    [Fact]
    public async Task Kestrel_limits_from_configuration_take_effect_on_REST_and_on_gRPC()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, ["--Kestrel:Limits:MaxRequestHeaderCount=8", "--Kestrel:Limits:Http2:InitialConnectionWindowSize=8388608"]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        // Past 8 headers: Kestrel's 431, where its default (100) lets the request through.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/health/live");
        for (int i = 0; i < 10; i++)
        {
            request.Headers.Add($"X-Extra-{i}", "1");
        }

        using var tooMany = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, tooMany.StatusCode);

        // The gRPC listener's connection window: its first WINDOW_UPDATE raises the 64 KiB the
        // protocol starts with to the configured 8 MiB (Kestrel's default is 1 MiB).
        Assert.Equal(8388608 - 65535, await ConnectionWindowUpdateAsync(ServerFixture.GrpcAddressOf(app)));
    }

    [Fact]
    public async Task Minimum_data_rates_are_read_and_the_server_s_own_body_limit_and_header_stay()
    {
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, [
            "--Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond=100", "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:10",
            "--Kestrel:Limits:MinResponseDataRate=", "--Kestrel:AddServerHeader=true", "--Kestrel:Limits:MaxRequestBodySize=10"]);
        await using var _ = app;
        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(100, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.MinRequestBodyDataRate.GracePeriod);
        Assert.Null(limits.MinResponseDataRate);

        // Kestrel's 10-byte body limit and its Server header are set aside: the body limit is
        // LowLatency:MaxRequestBodyBytes, answered in the request's encoding, and no header names the server.
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var response = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToMsgPack(), Wire.MsgPack));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public void A_minimum_data_rate_Kestrel_would_refuse_stops_start_up_naming_it()
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models,
            "--Kestrel:Limits:MinResponseDataRate:BytesPerSecond=240", "--Kestrel:Limits:MinResponseDataRate:GracePeriod=00:00:00.5"]));
        Assert.StartsWith("Kestrel:Limits:MinResponseDataRate = '240 B/s, 00:00:00.5': ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Opens an h2c connection and returns the increment of the server's first connection-level WINDOW_UPDATE.</summary>
    private static async Task<int> ConnectionWindowUpdateAsync(Uri address)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.Host, address.Port);
        // The client preface, then an empty SETTINGS frame.
        byte[] preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];
        await socket.SendAsync(preface);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[9];
        while (true)
        {
            await ReadExactlyAsync(socket, header, timeout.Token);
            int length = (header[0] << 16) | (header[1] << 8) | header[2];
            byte type = header[3];
            int stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff;
            var payload = new byte[length];
            await ReadExactlyAsync(socket, payload, timeout.Token);
            if (type == 8 && stream == 0)
            {
                return BinaryPrimitives.ReadInt32BigEndian(payload) & 0x7fffffff;
            }
        }
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken token)
    {
        for (int have = 0; have < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(have), token);
            Assert.True(n > 0, "the server closed the connection");
            have += n;
        }
    }
}
