using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LowLatency.Host.Security;

namespace LowLatency.Host;

/// <summary>
/// Listen sockets handed in by the service manager (systemd socket activation, sd_listen_fds(3)):
/// <c>LISTEN_PID</c> names this process, <c>LISTEN_FDS</c> counts the sockets from descriptor 3 on,
/// and <c>LISTEN_FDNAMES</c> (colon-separated, a socket unit's <c>FileDescriptorName=</c>) names them.
/// A socket named <c>grpc</c> serves gRPC (HTTP/2); every other one serves REST. A handed-in socket
/// replaces the URLs of its kind (<c>--urls</c> for REST, <c>--grpc-urls</c> for gRPC); a kind with no
/// socket handed in binds its URLs as without systemd. The sockets keep their address (the bind guard
/// reads it, <see cref="Endpoint"/>): the service manager bound them, and the port stays open across
/// restarts, connections waiting in its backlog.
/// </summary>
internal sealed class HandedSockets
{
    private const int FirstDescriptor = 3;

    private HandedSockets(List<HandedSocket> sockets) => All = sockets;

    /// <summary>The sockets, in the order handed in; empty when none were for this process.</summary>
    public IReadOnlyList<HandedSocket> All { get; }

    public IEnumerable<HandedSocket> Rest => All.Where(s => !s.Grpc);

    public IEnumerable<HandedSocket> Grpc => All.Where(s => s.Grpc);

    /// <summary>
    /// Takes the sockets the environment hands to this process, and removes the variables (as
    /// sd_listen_fds(1) does), so that nothing this process starts takes them for its own.
    /// <paramref name="https"/>: whether they serve TLS (the server certificate is configured).
    /// </summary>
    public static HandedSockets Take(bool https)
    {
        var sockets = new List<HandedSocket>();
        // Inherited from a parent that was handed them: not ours (sd_listen_fds checks the pid too).
        if (Environment.GetEnvironmentVariable("LISTEN_PID") is not { } pid || pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
            || !int.TryParse(Environment.GetEnvironmentVariable("LISTEN_FDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count <= 0)
        {
            return new HandedSockets(sockets);
        }

        string[] names = Environment.GetEnvironmentVariable("LISTEN_FDNAMES")?.Split(':') ?? [];
        foreach (var variable in new[] { "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES" })
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        for (int i = 0; i < count; i++)
        {
            string name = i < names.Length ? names[i] : "";
            int fd = FirstDescriptor + i;
            sockets.Add(new HandedSocket(fd, name, name.Equals("grpc", StringComparison.OrdinalIgnoreCase), https, LocalAddress(fd)));
        }

        return new HandedSockets(sockets);
    }

    /// <summary>The address the socket is bound to, as getsockname(2) tells it; null when it cannot be read.</summary>
    private static EndPoint? LocalAddress(int fd)
    {
        try
        {
            // Not owning the handle: Kestrel takes the descriptor itself; this only asks where it listens.
            using var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
            return socket.LocalEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}

/// <summary>
/// One socket handed in: its descriptor, its <c>FileDescriptorName</c>, whether it serves gRPC or TLS,
/// and where it is bound.
/// </summary>
internal sealed record HandedSocket(int Descriptor, string Name, bool Grpc, bool Https, EndPoint? Bound)
{
    /// <summary>
    /// The socket as the bind guard sees a URL: its bound address, so that loopback passes and any
    /// other address needs authentication as a configured URL would. A socket whose address cannot be
    /// read, or a unix socket (any local user the file's mode lets in can connect), is not loopback.
    /// </summary>
    public ListenEndpoint Endpoint => new(Url);

    public string Url
    {
        get
        {
            string scheme = Https ? "https" : "http";
            return Bound switch
            {
                IPEndPoint ip => $"{scheme}://{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip.Address}]" : ip.Address.ToString())}:{ip.Port}",
                UnixDomainSocketEndPoint unix => $"{scheme}://unix:{unix}",
                _ => $"{scheme}://fd:{Descriptor}",
            };
        }
    }
}
