using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LowLatency.Tests.Security;

/// <summary>A certificate authority made for one test: it issues the server's and clients' certificates and writes the PEM files the server reads.</summary>
internal sealed class ThrowawayCa : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ThrowawayCa(string name)
    {
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        Directory.CreateDirectory(Folder);
    }

    public X509Certificate2 Certificate { get; }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "ll-ca-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes the CA certificate as PEM; returns the path.</summary>
    public string WriteCa()
    {
        string path = Path.Combine(Folder, "ca.pem");
        File.WriteAllText(path, Certificate.ExportCertificatePem());
        return path;
    }

    /// <summary>A server certificate for localhost and 127.0.0.1, written as PEM certificate and key; returns both paths.</summary>
    public (string Cert, string Key) WriteServer()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = Issue(request);
        string certPath = Path.Combine(Folder, "server.pem"), keyPath = Path.Combine(Folder, "server.key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    /// <summary>A client certificate with its private key, usable by SslStream.</summary>
    public X509Certificate2 Client(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var cert = Issue(request);
        using var withKey = cert.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private X509Certificate2 Issue(CertificateRequest request)
    {
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        return request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), serial);
    }

    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
