using System.Net;
using System.Security.Cryptography.X509Certificates;
using LowLatency.Tests.Infrastructure;
using LowLatency.Tests.Security;

namespace LowLatency.Tests.Hostile;

/// <summary>
/// The guard that refuses to listen beyond loopback without authentication: it counts only the
/// protection in force on each endpoint, and a setting that cannot take effect stops start-up
/// naming it, whatever else is configured.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class ListenGuardTests
{
    private const string AdminKey = "admin-key-4f1c9e2b7a";
    private const string Unload = "/v2/repository/models/text-encoder/unload";

    [Fact]
    public async Task A_client_ca_on_a_unix_socket_without_a_certificate_is_refused_not_taken_for_mtls()
    {
        // The probe: this started with the admin API open to anyone who could reach the socket.
        string socket = HostileStart.SocketPath();
        string error = await HostileStart.AssertRefusedAsync(["--urls", $"http://unix:{socket}", "--LowLatency:Tls:ClientCaFile=/nonexistent"], "LowLatency:Tls:ClientCaFile");
        Assert.Contains("LowLatency:Tls:CertificateFile", error, StringComparison.Ordinal);
        Assert.False(File.Exists(socket), "the refused server left a socket behind");
    }

    [Fact]
    public async Task A_unix_socket_without_authentication_is_refused()
    {
        string error = await HostileStart.AssertRefusedAsync(["--urls", $"http://unix:{HostileStart.SocketPath()}"], "LowLatency:AllowInsecure");
        Assert.Contains("refusing to listen on http://unix:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_ca_with_only_http_urls_is_refused_even_with_a_certificate_and_with_api_keys()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        var (cert, key) = ca.WriteServer();
        string url = $"http://0.0.0.0:{HostileStart.FreePort()}";
        string[] tls = ["--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa()];

        string error = await HostileStart.AssertRefusedAsync(["--urls", url, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa()], "LowLatency:Tls:ClientCaFile");
        Assert.Contains("LowLatency:Tls:CertificateFile", error, StringComparison.Ordinal);

        error = await HostileStart.AssertRefusedAsync(["--urls", url, .. tls], "LowLatency:Tls:ClientCaFile");
        Assert.Contains("https://", error, StringComparison.Ordinal);

        // Authentication satisfies the guard, but the operator asked for client certificates that no endpoint would ask for.
        await HostileStart.AssertRefusedAsync(["--urls", url, .. tls, "--LowLatency:Auth:ApiKeys:0:Key=" + AdminKey, "--LowLatency:Auth:ApiKeys:0:Subject=s"], "LowLatency:Tls:ClientCaFile");
    }

    [Fact]
    public async Task Mtls_on_the_https_url_does_not_cover_a_plain_http_url_beside_it()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        var (cert, key) = ca.WriteServer();
        string http = $"http://0.0.0.0:{HostileStart.FreePort()}";
        string error = await HostileStart.AssertRefusedAsync(
            ["--urls", $"https://0.0.0.0:{HostileStart.FreePort()};{http}", "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa()],
            "LowLatency:AllowInsecure");
        Assert.Contains($"refusing to listen on {http} ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("https://0.0.0.0", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endpoint_that_relaxes_client_certificates_is_not_counted_as_mtls()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        var (cert, key) = ca.WriteServer();
        string error = await HostileStart.AssertRefusedAsync(
            [
                "--Kestrel:Endpoints:Public:Url=" + $"https://0.0.0.0:{HostileStart.FreePort()}", "--Kestrel:Endpoints:Public:ClientCertificateMode=AllowCertificate",
                "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa(),
            ],
            "Kestrel:Endpoints:Public:ClientCertificateMode");
        Assert.Contains("refusing to listen on https://0.0.0.0:", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ca")]
    [InlineData("cert")]
    [InlineData("key")]
    public async Task A_tls_file_that_does_not_load_stops_start_up_naming_its_setting(string broken)
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        var (cert, key) = ca.WriteServer();
        string caFile = ca.WriteCa();
        string garbage = Path.Combine(ca.Folder, "garbage.pem");
        File.WriteAllText(garbage, "not a certificate\n");
        string[] args =
        [
            "--urls", $"https://0.0.0.0:{HostileStart.FreePort()}",
            "--LowLatency:Tls:CertificateFile=" + (broken == "cert" ? Path.Combine(ca.Folder, "missing.pem") : cert),
            "--LowLatency:Tls:KeyFile=" + (broken == "key" ? garbage : key),
            "--LowLatency:Tls:ClientCaFile=" + (broken == "ca" ? garbage : caFile),
        ];
        string setting = broken switch { "ca" => "LowLatency:Tls:ClientCaFile", "cert" => "LowLatency:Tls:CertificateFile", _ => "LowLatency:Tls:KeyFile" };
        await HostileStart.AssertRefusedAsync(args, setting);

        // A missing client CA file, the probe's value, with a certificate that loads.
        await HostileStart.AssertRefusedAsync(["--urls", $"https://0.0.0.0:{HostileStart.FreePort()}", "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=/nonexistent"], "LowLatency:Tls:ClientCaFile");
    }

    [Theory]
    [InlineData("--LowLatency:Tls:KeyFile=/etc/hostname", "LowLatency:Tls:KeyFile")]
    [InlineData("--LowLatency:Tls:Password=secret", "LowLatency:Tls:Password")]
    public async Task A_tls_setting_without_a_certificate_stops_start_up_naming_it(string argument, string setting)
    {
        string error = await HostileStart.AssertRefusedAsync([argument], setting);
        Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mtls_on_an_https_url_beyond_loopback_is_enforced_and_the_server_stays_ready()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        using var rogue = new ThrowawayCa("Someone else's CA");
        var (cert, key) = ca.WriteServer();
        int port = HostileStart.FreePort();
        var address = new Uri($"https://127.0.0.1:{port}");
        using var client = TlsClient(address, ca, ca.Client("mlops"));
        using var server = await HostileStart.StartAsync(
            ["--urls", $"https://0.0.0.0:{port}", "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa()],
            client);

        using var anonymous = TlsClient(address, ca, null);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => anonymous.PostAsync(Unload, null));
        using var stranger = TlsClient(address, ca, rogue.Client("mlops"));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => stranger.PostAsync(Unload, null));

        using var ready = await client.GetAsync("/v2/models/text-encoder/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var health = await client.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Api_keys_on_a_unix_socket_are_enforced_and_the_server_stays_ready()
    {
        string socket = HostileStart.SocketPath();
        using var client = HostileStart.UnixSocketClient(socket);
        using var server = await HostileStart.StartAsync(
            ["--urls", $"http://unix:{socket}", "--LowLatency:Auth:ApiKeys:0:Key=" + AdminKey, "--LowLatency:Auth:ApiKeys:0:Subject=mlops", "--LowLatency:Auth:ApiKeys:0:Scopes:0=admin"],
            client);

        using (var none = await client.PostAsync(Unload, null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Post, Unload))
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", "");
            using var empty = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, empty.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v2/repository/index"))
        {
            request.Headers.Add("X-Api-Key", AdminKey);
            using var index = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        }

        using var ready = await client.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static HttpClient TlsClient(Uri address, ThrowawayCa ca, X509Certificate2? clientCert) => new(new SocketsHttpHandler
    {
        SslOptions =
        {
            ClientCertificates = clientCert is null ? null : new X509CertificateCollection { clientCert },
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && LowLatency.Host.Security.Tls.ChainsTo(new X509Certificate2(cert), ca.Certificate),
        },
    })
    { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
}
