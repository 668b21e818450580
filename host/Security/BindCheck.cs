using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace LowLatency.Host.Security;

/// <summary>
/// Refuses to serve without authentication on anything but loopback: a model server reachable from
/// the network with no credentials is an open door to its models and its control API. Binding
/// elsewhere needs JWT or API keys, or mTLS on that endpoint, or an explicit
/// <c>LowLatency:AllowInsecure=true</c>. Only protection actually in force on an endpoint counts:
/// mTLS covers an https:// endpoint with the server certificate and client CA loaded, and no other.
/// </summary>
internal static class BindCheck
{
    /// <summary>
    /// Every address the server may listen on: the URLs (<c>urls</c>, <c>ASPNETCORE_URLS</c>),
    /// <c>Kestrel:Endpoints</c>, and <c>http_ports</c>/<c>https_ports</c>. Kestrel binds some of
    /// these in preference to others; the check takes them all, so it can only be stricter.
    /// </summary>
    public static List<ListenEndpoint> Endpoints(IConfiguration config, string defaultUrl)
    {
        var endpoints = new List<ListenEndpoint>();
        foreach (var key in new[] { "urls", "ASPNETCORE_URLS" })
        {
            if (config[key] is { Length: > 0 } value)
            {
                endpoints.AddRange(Split(value).Select(u => new ListenEndpoint(u)));
            }
        }

        foreach (var endpoint in config.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                endpoints.Add(new ListenEndpoint(url, endpoint.Key));
            }
        }

        // http_ports and https_ports bind every interface.
        foreach (var (key, scheme) in new[] { ("http_ports", "http"), ("https_ports", "https") })
        {
            if (config[key] is { Length: > 0 } ports)
            {
                endpoints.AddRange(Split(ports).Select(p => new ListenEndpoint($"{scheme}://*:{p}")));
            }
        }

        if (endpoints.Count == 0)
        {
            endpoints.Add(new ListenEndpoint(defaultUrl));
        }

        return endpoints.DistinctBy(e => (e.Url, e.KestrelEndpoint)).ToList();
    }

    /// <summary>
    /// Why the server must not start on <paramref name="endpoints"/> with the protection configured:
    /// null when it may. <paramref name="tls"/> is what the TLS settings loaded, null without them.
    /// </summary>
    public static string? Refusal(IConfiguration config, IReadOnlyList<ListenEndpoint> endpoints, bool authenticated, TlsCredentials? tls, bool allowInsecure)
    {
        // TLS settings act on https:// endpoints only; with none, they would protect nothing.
        if (tls is not null && !endpoints.Any(e => e.Https))
        {
            string setting = tls.MutualTls ? "LowLatency:Tls:ClientCaFile" : "LowLatency:Tls:CertificateFile";
            return $"{setting} cannot take effect: none of the URLs ({string.Join(", ", endpoints.Select(e => e.Url))}) is https://, " +
                "and certificates are exchanged only in a TLS handshake; serve https:// URLs or remove the setting";
        }

        if (authenticated || allowInsecure)
        {
            return null;
        }

        var open = new List<string>();
        var relaxed = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (endpoint.Loopback)
            {
                continue;
            }

            string? relaxedBy = endpoint.Https && tls is { MutualTls: true } ? RelaxedBy(config, endpoint) : null;
            if (endpoint.Https && tls is { MutualTls: true } && relaxedBy is null)
            {
                continue;
            }

            open.Add(endpoint.Url);
            if (relaxedBy is not null)
            {
                relaxed.Add($"{relaxedBy} lets clients reach {endpoint.Url} without a certificate");
            }
        }

        if (open.Count == 0)
        {
            return null;
        }

        return $"refusing to listen on {string.Join(", ", open)} without authentication: configure LowLatency:Auth (Jwt or ApiKeys), " +
            "or mTLS on https:// URLs (LowLatency:Tls:CertificateFile and ClientCaFile), or set LowLatency:AllowInsecure=true to accept " +
            "unauthenticated clients from the network" + (relaxed.Count > 0 ? $" ({string.Join("; ", relaxed)})" : "");
    }

    /// <summary>
    /// The setting of a <c>Kestrel:Endpoints</c> entry that overrides the required client
    /// certificate on it (its own mode, or one of its SNI entries'), as "name=value"; null when none does.
    /// </summary>
    private static string? RelaxedBy(IConfiguration config, ListenEndpoint endpoint)
    {
        if (endpoint.KestrelEndpoint is not { } name)
        {
            return null;
        }

        var section = config.GetSection($"Kestrel:Endpoints:{name}");
        var modes = new List<IConfigurationSection> { section.GetSection("ClientCertificateMode") };
        modes.AddRange(section.GetSection("Sni").GetChildren().Select(sni => sni.GetSection("ClientCertificateMode")));
        foreach (var mode in modes)
        {
            if (mode.Value is { } value && !(Enum.TryParse<ClientCertificateMode>(value, ignoreCase: true, out var m) && m == ClientCertificateMode.RequireCertificate))
            {
                return $"{mode.Path}={value}";
            }
        }

        return null;
    }

    internal static bool IsLoopback(string url)
    {
        // Kestrel's wildcards ("*", "+", "0.0.0.0", "[::]") are every interface: not loopback. Nor is
        // a unix socket ("http://unix:/path"): any local user the file's mode lets in can connect.
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        string rest = scheme >= 0 ? url[(scheme + 3)..] : url;
        string host = rest.StartsWith('[') ? rest[..(rest.IndexOf(']') + 1)] : rest.Split(':', '/')[0];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    private static string[] Split(string list) => list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
