namespace LowLatency.Host.Security;

/// <summary>
/// One address the server may listen on, as configured: <paramref name="Url"/>, and the name of its
/// <c>Kestrel:Endpoints</c> entry when it comes from one (whose own settings can change its TLS).
/// </summary>
internal sealed record ListenEndpoint(string Url, string? KestrelEndpoint = null)
{
    public bool Https => Url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    public bool Loopback => BindCheck.IsLoopback(Url);
}
