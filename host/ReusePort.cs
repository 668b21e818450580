using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace LowLatency.Host;

/// <summary>
/// <c>LowLatency:ReusePort</c> (Linux): every TCP listener is bound with SO_REUSEPORT, so that a second
/// server process started with the same URLs binds beside this one instead of failing with "address
/// in use", and the newest of them takes the new connections (<see cref="Steer"/>): the ground for
/// replacing the binary without closing the port (<see cref="Handover"/>), not for sharing load.
/// Opt-in, because SO_REUSEPORT lets any process of the same user bind the same port and take its new
/// connections. Unix sockets and sockets handed in by systemd are bound as Kestrel binds them.
/// </summary>
internal sealed partial class ReusePort
{
    // <asm-generic/socket.h>: SOL_SOCKET, SO_REUSEPORT and SO_ATTACH_REUSEPORT_CBPF on Linux (x86-64 and arm64 alike).
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private const int SoAttachReusePortCbpf = 51;

    private readonly List<Socket> _bound = [];

    public static void Use(WebApplicationBuilder builder)
    {
        var reuse = new ReusePort();
        builder.Services.AddSingleton(reuse);
        builder.Services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = reuse.Bind);
    }

    /// <summary>
    /// Once Kestrel listens: the port's listeners (the processes bound with SO_REUSEPORT) hand every new
    /// connection to the newest of them, not spread by a hash over all. A classic BPF program on the
    /// group returns index 1, the listener that joined after the first; with one listener the index is
    /// past the end and the kernel falls back to its hash. So a replacement, which listens only once
    /// warm, takes every new connection as soon as it listens, and the old process's accept queue
    /// empties before it closes its listener (a queue still holding connections would reset them).
    /// </summary>
    public void Steer(ILogger logger)
    {
        lock (_bound)
        {
            foreach (var socket in _bound)
            {
                try
                {
                    AttachNewestFirst(socket);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    LogNotSteered(logger, socket.LocalEndPoint?.ToString() ?? "?", e.Message);
                }
            }
        }
    }

    private static void AttachNewestFirst(Socket socket)
    {
        // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }: BPF_RET | BPF_K, k = 1.
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 16 bytes on 64-bit Linux.
        // The kernel copies the program during setsockopt: the memory is freed at once.
        nint filter = System.Runtime.InteropServices.Marshal.AllocHGlobal(8);
        try
        {
            System.Runtime.InteropServices.Marshal.WriteInt64(filter, 0x06L | (1L << 32));
            var program = new byte[16];
            BitConverter.TryWriteBytes(program.AsSpan(0, 2), (ushort)1);
            BitConverter.TryWriteBytes(program.AsSpan(8, 8), (long)filter);
            socket.SetRawSocketOption(SolSocket, SoAttachReusePortCbpf, program);
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(filter);
        }
    }

    private Socket Bind(EndPoint endpoint)
    {
        if (endpoint is not IPEndPoint ip)
        {
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As Kestrel's own: [::] takes IPv4 too.
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            socket.Bind(ip);
            lock (_bound)
            {
                _bound.Add(socket);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    [LoggerMessage(EventId = 1024, EventName = "ReusePortNotSteered", Level = LogLevel.Warning, Message = "SO_REUSEPORT: new connections to {Endpoint} are spread by the kernel's hash, not handed to the newest process ({Reason}): a replacement may see resets")]
    private static partial void LogNotSteered(ILogger logger, string endpoint, string reason);
}
