using System.Net.Sockets;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// What <see cref="HostileServer"/> does not cover: a start-up the server must refuse (exit code and
/// message), and a server reached over TLS or a unix socket rather than plain HTTP on its loopback port.
/// </summary>
internal static class HostileStart
{
    /// <summary>The line Microsoft.Hosting.Lifetime writes once Kestrel listens.</summary>
    private const string Started = "Application started.";

    /// <summary>
    /// Starts the server with <paramref name="arguments"/> (after ServerProcess's own URL and
    /// repository, so a later <c>--urls</c> replaces its URL) and waits for it to exit: its exit code
    /// and everything it wrote. Fails the test as soon as the server starts listening instead.
    /// </summary>
    public static async Task<(int ExitCode, string Log)> RefusedAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var server = ServerProcess.Start(["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", .. arguments], environment);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!server.Process.HasExited)
        {
            Assert.False(server.Log.Contains(Started, StringComparison.Ordinal), "the server started instead of refusing to:\n" + server.Log);
            Assert.True(DateTime.UtcNow < deadline, "the server neither started nor exited within 120 s:\n" + server.Log);
            await Task.Delay(50);
        }

        // The parameterless wait also waits for the redirected output to be read to its end.
        server.Process.WaitForExit();
        return (server.Process.ExitCode, server.Log);
    }

    /// <summary>Asserts a start-up refused with exit code 2 and a message naming <paramref name="setting"/>; returns the message.</summary>
    public static async Task<string> AssertRefusedAsync(IEnumerable<string> arguments, string setting, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (exitCode, log) = await RefusedAsync(arguments, environment);
        Assert.True(exitCode == 2, $"exit code {exitCode}, not 2:\n{log}");
        string error = log.Split('\n').FirstOrDefault(l => l.StartsWith("error: ", StringComparison.Ordinal)) ?? "";
        Assert.True(error.Contains(setting, StringComparison.Ordinal), $"the refusal does not name {setting}:\n{log}");
        return error;
    }

    /// <summary>
    /// Starts the server with <paramref name="arguments"/> and waits until <paramref name="client"/>
    /// (TLS, a unix socket: whatever the arguments make the server listen on) finds it ready.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> arguments, HttpClient client)
    {
        var server = ServerProcess.Start(["--Logging:LogLevel:Default=Warning", .. arguments]);
        try
        {
            await server.WaitReadyAsync(client);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A client that sends every request over the unix socket at <paramref name="path"/>.</summary>
    public static HttpClient UnixSocketClient(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancel) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = new Uri("http://localhost"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A loopback port free at the time of asking.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A path for a unix socket in the temporary directory, short enough for sun_path (108 bytes).</summary>
    public static string SocketPath() => Path.Combine(Path.GetTempPath(), $"ll-{Guid.NewGuid():N}"[..15] + ".sock");
}
