namespace LowLatency.Host.Security;

/// <summary>
/// HTTPS and mutual TLS, bound from <c>LowLatency:Tls</c>. With <see cref="ClientCaFile"/> set, every
/// connection must present a client certificate that chains to that CA (and only that CA); its
/// subject then names the client in rate limits and messages.
/// </summary>
internal sealed class TlsOptions
{
    /// <summary>The server certificate: a PEM certificate (with <see cref="KeyFile"/>) or a PFX.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The server certificate's PEM private key (not needed for a PFX).</summary>
    public string? KeyFile { get; set; }

    public string? Password { get; set; }

    /// <summary>The CA (PEM) client certificates must chain to; set: client certificates are required.</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>
    /// Whether a server certificate is configured. Whether mTLS is in force is not a property of the
    /// settings: only <see cref="Tls.Load"/> knows, once the files have loaded.
    /// </summary>
    public bool Enabled => CertificateFile is not null;
}
