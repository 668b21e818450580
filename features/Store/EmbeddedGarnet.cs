using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Garnet;

namespace LowLatency.Features.Store;

/// <summary>
/// Garnet, a Redis-protocol server, run inside this process: the online store when no Redis is
/// configured, so that the same client, key layout and push script run as against Redis. It listens
/// on a free loopback port with a password made at start (other local users cannot read or write
/// it), keeps everything in memory (nothing survives a restart, as a cache's contents need not), and
/// has Lua on for the push script.
/// </summary>
public sealed class EmbeddedGarnet : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedGarnet(GarnetServer server, int port, string password)
    {
        _server = server;
        Port = port;
        Password = password;
    }

    public int Port { get; }

    public string Password { get; }

    /// <summary>StackExchange.Redis's connection string for it.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)},password={Password}";

    public static EmbeddedGarnet Start()
    {
        // A free port is found by binding to port 0; another process may take it before Garnet
        // binds it, so a failed start is retried on a new one.
        for (int attempt = 1; ; attempt++)
        {
            int port = FreeLoopbackPort();
            string password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            string[] args = ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--lua", "--auth", "Password", "--password", password, "-q"];
            GarnetServer? server = null;
            try
            {
                server = new GarnetServer(args);
                server.Start();
                return new EmbeddedGarnet(server, port, password);
            }
            catch (Exception) when (attempt < 3)
            {
                server?.Dispose();
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose() => _server.Dispose();
}
