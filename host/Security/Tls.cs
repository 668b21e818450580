using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace LowLatency.Host.Security;

/// <summary>Kestrel's HTTPS defaults from <see cref="TlsOptions"/>: the server certificate and, for mTLS, client-certificate validation against the configured CA alone.</summary>
internal static class Tls
{
    private const string Section = "LowLatency:Tls";

    /// <summary>
    /// Loads the files <paramref name="tls"/> names: null without a server certificate. A setting
    /// that cannot take effect (a file that does not load, a client CA or key with no certificate
    /// to go with) throws <see cref="InvalidSettingException"/> naming it, rather than leaving the
    /// server without the protection the operator asked for. Passwords are never repeated.
    /// </summary>
    public static TlsCredentials? Load(TlsOptions tls)
    {
        if (!tls.Enabled)
        {
            foreach (var (name, value) in new[] { ("ClientCaFile", tls.ClientCaFile), ("KeyFile", tls.KeyFile), ("Password", tls.Password) })
            {
                if (value is not null)
                {
                    throw new InvalidSettingException($"{Section}:{name} is set without {Section}:CertificateFile, so it cannot take effect: " +
                        "TLS (and with it a client certificate) needs the server's certificate; set CertificateFile and serve https:// URLs, or remove the setting");
                }
            }

            return null;
        }

        X509Certificate2 server = tls.KeyFile is { } keyFile ? FromPem(tls.CertificateFile!, keyFile) : FromPfx(tls.CertificateFile!, tls.Password);
        if (!server.HasPrivateKey)
        {
            throw Refused("CertificateFile", tls.CertificateFile!, "holds no private key: a PFX needs the key, a PEM certificate needs KeyFile");
        }

        X509Certificate2? ca = null;
        if (tls.ClientCaFile is { } caFile)
        {
            string pem = Read("ClientCaFile", caFile);
            try
            {
                ca = X509Certificate2.CreateFromPem(pem);
            }
            catch (CryptographicException e)
            {
                throw Refused("ClientCaFile", caFile, $"is not a PEM certificate: {e.Message}");
            }
        }

        return new TlsCredentials(server, ca);
    }

    public static void Configure(WebApplicationBuilder builder, TlsCredentials? tls)
    {
        if (tls is null)
        {
            return;
        }

        var (serverCert, ca) = tls;
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

    private static X509Certificate2 FromPem(string certFile, string keyFile)
    {
        string certPem = Read("CertificateFile", certFile);
        string keyPem = Read("KeyFile", keyFile);
        try
        {
            X509Certificate2.CreateFromPem(certPem).Dispose();
        }
        catch (CryptographicException e)
        {
            throw Refused("CertificateFile", certFile, $"is not a PEM certificate: {e.Message}");
        }

        try
        {
            return X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (CryptographicException e)
        {
            throw Refused("KeyFile", keyFile, $"does not hold the certificate's private key in PEM: {e.Message}");
        }
    }

    private static X509Certificate2 FromPfx(string file, string? password)
    {
        Read("CertificateFile", file);
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(file, password);
        }
        catch (CryptographicException e)
        {
            // Without KeyFile the certificate is taken for a PFX; the message may be about the password, never shows it.
            throw Refused("CertificateFile", file, $"does not open as a PFX{(password is null ? "" : $" with {Section}:Password")} (for a PEM certificate, set KeyFile): {e.Message}");
        }
    }

    private static string Read(string setting, string file)
    {
        if (file.Length == 0)
        {
            throw new InvalidSettingException($"{Section}:{setting} is empty: it needs a file's path");
        }

        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw Refused(setting, file, $"cannot be read: {e.Message}");
        }
    }

    private static InvalidSettingException Refused(string setting, string file, string why) => new($"{Section}:{setting} '{file}' {why}");
}
