using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace LowLatency.Host.Security;

/// <summary>Kestrel's HTTPS defaults from <see cref="TlsOptions"/>: the server certificate and, for mTLS, client-certificate validation against the configured CA alone.</summary>
internal static class Tls
{
    public static void Configure(WebApplicationBuilder builder, TlsOptions tls)
    {
        if (!tls.Enabled)
        {
            return;
        }

        var serverCert = tls.KeyFile is not null
            ? X509Certificate2.CreateFromPemFile(tls.CertificateFile!, tls.KeyFile)
            : X509CertificateLoader.LoadPkcs12FromFile(tls.CertificateFile!, tls.Password);
        X509Certificate2? ca = tls.ClientCaFile is { } caFile ? X509Certificate2.CreateFromPem(File.ReadAllText(caFile)) : null;
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = serverCert;
            if (ca is null)
            {
                return;
            }

            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (cert, _, _) => ChainsTo(cert, ca);
        }));
    }

    /// <summary>Whether <paramref name="cert"/> chains to <paramref name="ca"/>, trusting nothing else (not the system store).</summary>
    internal static bool ChainsTo(X509Certificate2 cert, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        return chain.Build(cert);
    }
}
