using System.Net;

namespace LowLatency.Host.Security;

/// <summary>
/// Refuses to serve without authentication on anything but loopback: a model server reachable from
/// the network with no credentials is an open door to its models and its control API. Binding
/// elsewhere needs JWT or API keys (or mTLS with required client certificates), or an explicit
/// <c>LowLatency:AllowInsecure=true</c>.
/// </summary>
internal static class BindCheck
{
    /// <summary>The addresses the server will listen on that are not loopback.</summary>
    public static List<string> NonLoopback(IConfiguration config, string defaultUrl)
    {
        var urls = new List<string>();
        foreach (var key in new[] { "urls", "ASPNETCORE_URLS" })
        {
            if (config[key] is { Length: > 0 } value)
            {
                urls.AddRange(value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }

        foreach (var endpoint in config.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                urls.Add(url);
            }
        }

        // http_ports and https_ports bind every interface.
        foreach (var key in new[] { "http_ports", "https_ports" })
        {
            if (config[key] is { Length: > 0 } ports)
            {
                urls.Add($"http://*:{ports}");
            }
        }

        if (urls.Count == 0)
        {
            urls.Add(defaultUrl);
        }

        return urls.Where(u => !IsLoopback(u)).ToList();
    }

    internal static bool IsLoopback(string url)
    {
        // Kestrel's wildcards ("*", "+", "0.0.0.0", "[::]") are every interface: not loopback.
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        string rest = scheme >= 0 ? url[(scheme + 3)..] : url;
        string host = rest.StartsWith('[') ? rest[..(rest.IndexOf(']') + 1)] : rest.Split(':', '/')[0];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }
}
