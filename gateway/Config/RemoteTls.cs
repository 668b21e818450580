using System.Security.Cryptography.X509Certificates;

namespace LowLatency.Gateway.Config;

/// <summary>
/// mTLS to a remote backend: the authorities its server certificate must chain to (and only those:
/// the system's store is not consulted), and the client certificate this server presents, if any.
/// Loaded, and so checked, when the alias file is read.
/// </summary>
public sealed record RemoteTls(X509Certificate2Collection Authorities, X509Certificate2? ClientCertificate);
