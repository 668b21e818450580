using System.Security.Cryptography.X509Certificates;

namespace LowLatency.Host.Security;

/// <summary>What the TLS settings loaded: the server certificate and, for mTLS, the one CA client certificates must chain to.</summary>
internal sealed record TlsCredentials(X509Certificate2 ServerCertificate, X509Certificate2? ClientCa)
{
    public bool MutualTls => ClientCa is not null;
}
