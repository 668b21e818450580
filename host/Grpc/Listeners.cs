using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LowLatency.Host.Grpc;

/// <summary>
/// Kestrel's listeners when gRPC is served: the REST URLs and the gRPC URLs (HTTP/2 only; h2c on
/// http://), in one Kestrel. Kestrel ignores <c>urls</c> once <c>Listen</c> is called, so both sets
/// are bound here, from the same URLs <c>--urls</c> (or <c>http_ports</c>/<c>https_ports</c>) and
/// <c>--grpc-urls</c> name; https:// ones take the TLS settings (Kestrel's HTTPS defaults). Each gRPC
/// connection is marked (<see cref="GrpcListenerFeature"/>), so that routes answer on their own
/// listener only. <c>Kestrel:Endpoints</c>, when configured, stay Kestrel's (and serve REST).
/// </summary>
internal sealed class Listeners
{
    private readonly List<(ListenOptions Options, bool Https)> _grpc = [];

    /// <summary>Where the gRPC listener is bound, once the server has started (ports resolved).</summary>
    public IReadOnlyList<string> GrpcAddresses => [.. _grpc.Select(g => Address(g.Options, g.Https))];

    public void Configure(KestrelServerOptions kestrel, IReadOnlyList<string> restUrls, IReadOnlyList<string> grpcUrls)
    {
        foreach (var url in restUrls)
        {
            // Kestrel's endpoint defaults (Kestrel:EndpointDefaults:Protocols, say) decide REST's protocols, as for urls.
            Listen(kestrel, url, null, grpc: false);
        }

        foreach (var url in grpcUrls)
        {
            Listen(kestrel, url, HttpProtocols.Http2, grpc: true);
        }
    }

    /// <summary>
    /// Serves a listen socket the service manager handed in (its descriptor) as a URL of its kind
    /// would be served.
    /// </summary>
    public void ListenHandle(KestrelServerOptions kestrel, int descriptor, bool grpc, bool https) =>
        kestrel.ListenHandle((ulong)descriptor, o => Configure(o, grpc ? HttpProtocols.Http2 : null, https, grpc));

    private void Listen(KestrelServerOptions kestrel, string url, HttpProtocols? protocols, bool grpc)
    {
        var address = BindingAddress.Parse(url);
        bool https = address.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase);
        void Configure(ListenOptions o) => this.Configure(o, protocols, https, grpc);

        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, Configure);
        }
        else if (address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, Configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, address.Port, Configure);
        }
        else
        {
            // "*", "+" and host names: every interface, as Kestrel binds them from urls.
            kestrel.ListenAnyIP(address.Port, Configure);
        }
    }

    private void Configure(ListenOptions o, HttpProtocols? protocols, bool https, bool grpc)
    {
        if (protocols is { } p)
        {
            o.Protocols = p;
        }
        if (https)
        {
            o.UseHttps();
        }

        if (grpc)
        {
            o.Use(next => connection =>
            {
                connection.Features.Set(GrpcListenerFeature.Instance);
                return next(connection);
            });
            _grpc.Add((o, https));
        }
    }

    private static string Address(ListenOptions o, bool https)
    {
        string scheme = https ? "https" : "http";
        return o.EndPoint switch
        {
            IPEndPoint ip => $"{scheme}://{(ip.Address.Equals(IPAddress.IPv6Any) ? "[::]" : ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip.Address}]" : ip.Address.ToString())}:{ip.Port}",
            System.Net.Sockets.UnixDomainSocketEndPoint unix => $"{scheme}://unix:{unix}",
            var other => $"{scheme}://{other}",
        };
    }
}
