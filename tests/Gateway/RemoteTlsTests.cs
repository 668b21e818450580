using System.Net;
using System.Security.Cryptography.X509Certificates;
using LowLatency.Tests.Infrastructure;
using LowLatency.Tests.Security;

namespace LowLatency.Tests.Gateway;

/// <summary>mTLS to a remote backend: a server that requires client certificates of its CA, reached with the certificate and authorities the alias file names.</summary>
public sealed class RemoteTlsTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private static (string Cert, string Key) WriteClient(ThrowawayCa ca, string subject)
    {
        using var cert = ca.Client(subject);
        string certPath = Path.Combine(ca.Folder, subject + ".pem"), keyPath = Path.Combine(ca.Folder, subject + ".key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    private static string Backend(string name, Uri url, string ca, (string Cert, string Key) client) =>
        $$"""{ "name": "{{name}}", "url": "{{url}}", "model": "ctr-ranker", "weight": 1, "tls": { "ca": "{{ca}}", "certificate": "{{client.Cert}}", "key": "{{client.Key}}" } }""";

    [Fact]
    public async Task A_backend_requiring_client_certificates_answers_the_configured_one_and_refuses_others()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        using var rogue = new ThrowawayCa("Someone else's CA");
        var (cert, key) = ca.WriteServer();
        string caPem = ca.WriteCa(), roguePem = rogue.WriteCa();
        var (remoteApp, remoteAddress) = await ServerFixture.StartAsync(RepoPaths.Models,
            ["--urls", "https://127.0.0.1:0", "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + caPem]);
        await using var __ = remoteApp;
        using (var probe = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { ClientCertificates = [ca.Client("probe")], RemoteCertificateValidationCallback = (_, _, _, _) => true },
        })
        { BaseAddress = remoteAddress })
        {
            await ServerFixture.WaitReadyAsync(probe);
        }

        var good = WriteClient(ca, "gateway");
        var outsider = WriteClient(rogue, "outsider");
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        File.WriteAllText(Path.Combine(repo.Root, "aliases.json"), $$"""
            { "aliases": {
                "secure": { "backends": [ {{Backend("far", remoteAddress, caPem, good)}} ] },
                "outsider": { "backends": [ {{Backend("far", remoteAddress, caPem, outsider)}} ] },
                "mistrusting": { "backends": [ {{Backend("far", remoteAddress, roguePem, good)}} ] } } }
            """);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        using (var ok = await client.PostAsync("/v2/models/secure/infer", ServerFixture.Body(Golden.Request.ToJson(), Wire.Json)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            var result = Wire.ParseJson(await ok.Content.ReadAsByteArrayAsync());
            Assert.Equal("ctr-ranker", result.ModelName);
            Wire.AssertClose(Golden.Expected[0], result.Outputs[0]);
        }

        // A client certificate of another CA is refused by the backend; a backend whose certificate
        // does not chain to the configured authorities is refused by the gateway. Either way the
        // alias has no other backend: 503, naming the backend.
        foreach (string alias in new[] { "outsider", "mistrusting" })
        {
            using var refused = await client.PostAsync($"/v2/models/{alias}/infer", ServerFixture.Body(Golden.Request.ToJson(), Wire.Json));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("backend 'far'", Wire.ErrorOf(await refused.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }
    }
}
