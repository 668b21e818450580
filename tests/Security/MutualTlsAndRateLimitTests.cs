using System.Net;
using System.Security.Cryptography.X509Certificates;
using LowLatency.Host;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Security;

/// <summary>mTLS with a throwaway CA, and rate limits per client (the certificate's subject, an API key's subject) and per model.</summary>
public sealed class MutualTlsAndRateLimitTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private static HttpClient Client(Uri address, ThrowawayCa ca, X509Certificate2? clientCert) => new(new SocketsHttpHandler
    {
        SslOptions =
        {
            ClientCertificates = clientCert is null ? null : new X509CertificateCollection { clientCert },
            // Trust the test CA for the server's certificate, and nothing else.
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && LowLatency.Host.Security.Tls.ChainsTo(new X509Certificate2(cert), ca.Certificate),
        },
    })
    { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

    private static Task<HttpResponseMessage> InferAsync(HttpClient client, string model = "ctr-ranker") =>
        client.PostAsync($"/v2/models/{model}/infer", ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack));

    [Fact]
    public async Task Only_clients_with_a_certificate_from_the_configured_ca_get_in_and_their_subject_is_their_rate_limit_identity()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        using var rogue = new ThrowawayCa("Someone else's CA");
        var (cert, key) = ca.WriteServer();
        string[] args =
        [
            "--urls", "https://127.0.0.1:0", "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa(),
            "--LowLatency:RateLimits:PerClient:TokensPerSecond=0.01", "--LowLatency:RateLimits:PerClient:Burst=3",
        ];
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var _ = app;
        Assert.Equal("https", address.Scheme);

        using var fraud = Client(address, ca, ca.Client("fraud-service"));
        await ServerFixture.WaitReadyAsync(fraud); // 1 request of the burst of 3 is not spent: health is not limited
        for (int i = 0; i < 3; i++)
        {
            using var ok = await InferAsync(fraud);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var limited = await InferAsync(fraud))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.True(limited.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("client 'CN=fraud-service'", Wire.ErrorOf(await limited.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }

        // Another certificate from the same CA is another client, with its own bucket.
        using var ads = Client(address, ca, ca.Client("ads-ranker"));
        using (var other = await InferAsync(ads))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        // No certificate, or one from another CA: the handshake fails, nothing is served.
        using var anonymous = Client(address, ca, null);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => InferAsync(anonymous));
        using var stranger = Client(address, ca, rogue.Client("fraud-service"));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => InferAsync(stranger));
    }

    [Fact]
    public void Mtls_counts_on_https_ports_and_not_on_http_ports()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        var (cert, key) = ca.WriteServer();
        string[] tls = ["--model-repository", RepoPaths.Models, "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa()];
        using var https = (IDisposable)LowLatencyServer.Build(["--https_ports", "8443", .. tls]);
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--https_ports", "8443", "--http_ports", "8080", .. tls]));
        Assert.Contains("refusing to listen on http://*:8080 without authentication", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_limit_applies_to_every_client_and_names_the_model()
    {
        string[] args =
        [
            "--LowLatency:RateLimits:PerModel:image-classifier:TokensPerSecond=0.01", "--LowLatency:RateLimits:PerModel:image-classifier:Burst=2",
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-client-one", "--LowLatency:Auth:ApiKeys:0:Subject=one", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:*",
            "--LowLatency:Auth:ApiKeys:1:Key=key-of-client-two", "--LowLatency:Auth:ApiKeys:1:Subject=two", "--LowLatency:Auth:ApiKeys:1:Scopes:0=infer:*",
        ];
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var _ = app;
        using var one = new HttpClient { BaseAddress = address };
        one.DefaultRequestHeaders.Add("X-Api-Key", "key-of-client-one");
        using var two = new HttpClient { BaseAddress = address };
        two.DefaultRequestHeaders.Add("X-Api-Key", "key-of-client-two");
        await ServerFixture.WaitReadyAsync(one);
        var image = GoldenCase.Load("image-classifier", "batch1").Request.ToMsgPack();
        Task<HttpResponseMessage> Image(HttpClient c) => c.PostAsync("/v2/models/image-classifier/infer", ServerFixture.Body(image, Wire.MsgPack));

        using (var a = await Image(one))
        using (var b = await Image(two))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (a.StatusCode, b.StatusCode));
        }

        using (var c = await Image(one))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, c.StatusCode);
            Assert.Contains("model 'image-classifier'", Wire.ErrorOf(await c.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }

        // Other models are not limited.
        for (int i = 0; i < 5; i++)
        {
            using var ok = await InferAsync(two);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
    }
}
