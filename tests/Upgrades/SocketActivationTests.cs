using System.Net;
using LowLatency.Tests.Grpc;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Upgrades;

/// <summary>
/// The built server started by Debian's <c>systemd-socket-activate</c>, which binds the listen sockets,
/// starts the server at the first connection and hands them in as systemd does (LISTEN_FDS, LISTEN_FDNAMES).
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class SocketActivationTests
{
    private const string Launcher = SocketActivateFactAttribute.Launcher;

    [SocketActivateFact]
    public async Task Serves_rest_and_grpc_on_the_handed_in_sockets()
    {
        // The same ports in --urls and --grpc-urls: the server binding them itself would fail (in use),
        // so an answer shows that it serves the sockets handed in.
        using var server = ServerProcess.Start(["--Logging:LogLevel:Microsoft=Warning"], launcher: (port, grpcPort) =>
            [Launcher, "-l", $"127.0.0.1:{port}", "-l", $"127.0.0.1:{grpcPort}", "--fdname=http:grpc"]);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };
        await server.WaitReadyAsync(client);

        var golden = GoldenCase.Load("ctr-ranker", "batch1");
        using var response = await client.PostAsync("/v2/models/ctr-ranker/infer", ServerFixture.Body(golden.Request.ToJson(), "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Wire.AssertClose(golden.Expected[0], Wire.ParseJson(await response.Content.ReadAsByteArrayAsync()).Outputs[0]);

        using var channel = GrpcWire.Channel(server.GrpcAddress);
        await GrpcWire.WaitReadyAsync(GrpcWire.Client(channel));
        var answer = await GrpcWire.Client(channel).ModelInferAsync(GrpcWire.Request("ctr-ranker", golden.Request, raw: true));
        Wire.AssertClose(golden.Expected[0], GrpcWire.Result(answer).Outputs[0]);
        Assert.DoesNotContain("Overriding", server.Log, StringComparison.Ordinal);
    }

    [SocketActivateFact]
    public async Task A_handed_in_socket_on_every_interface_is_refused_without_authentication()
    {
        using var server = ServerProcess.Start([], launcher: (port, _) => [Launcher, "-l", $"0.0.0.0:{port}", "--fdname=http"]);
        // The launcher starts the server at the first connection (once it listens: retried until then).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!server.Process.HasExited && DateTime.UtcNow < deadline)
        {
            using var probe = new System.Net.Sockets.TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, server.Port);
                server.Process.WaitForExit(1000);
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(server.Process.HasExited, "the server did not exit\n" + server.Log);
        server.Process.WaitForExit();   // and its output read to the end
        Assert.Equal(2, server.Process.ExitCode);
        Assert.Contains($"refusing to listen on http://0.0.0.0:{server.Port}", server.Log, StringComparison.Ordinal);
    }
}
