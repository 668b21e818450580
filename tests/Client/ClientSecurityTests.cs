using System.Security.Cryptography.X509Certificates;
using LowLatency.Client;
using LowLatency.Tests.Infrastructure;
using LowLatency.Tests.Security;

namespace LowLatency.Tests.Client;

/// <summary>
/// The client against a protected server, over both transports: credentials from its options reach
/// the server's scopes, a missing or wrong one is its status (never retried), and over mTLS the
/// client certificate set through <see cref="InferenceClientOptions.ConfigureHandler"/> is what lets
/// it in.
/// </summary>
public sealed class ClientSecurityTests
{
    private static readonly GoldenCase Ctr = GoldenCase.Load("ctr-ranker", "batch1");
    private static readonly GoldenCase Text = GoldenCase.Load("text-encoder", "batch1");

    [Theory]
    [InlineData(InferenceTransport.Http)]
    [InlineData(InferenceTransport.Grpc)]
    public async Task An_API_key_grants_its_models_and_nothing_else(InferenceTransport transport)
    {
        string[] args =
        [
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-the-fraud-service", "--LowLatency:Auth:ApiKeys:0:Subject=fraud-service",
            "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:ctr-ranker",
        ];
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var _ = app;
        var target = transport == InferenceTransport.Grpc ? ServerFixture.GrpcAddressOf(app) : address;

        using (var keyed = new InferenceClient(new InferenceClientOptions { Address = target, Transport = transport, ApiKey = "key-of-the-fraud-service" }))
        {
            await WaitReadyAsync(keyed);
            using var result = await keyed.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request), ClientTensors.Options(Ctr.Request));
            ClientTensors.AssertOutputs(Ctr.Expected, result);

            var denied = await Assert.ThrowsAsync<InferenceException>(() => keyed.InferAsync("text-encoder", ClientTensors.Inputs(Text.Request), ClientTensors.Options(Text.Request)));
            Assert.Equal(InferenceStatus.PermissionDenied, denied.Status);
            Assert.Contains("'fraud-service' lacks the scope 'infer:text-encoder'", denied.ServerMessage, StringComparison.Ordinal);
            Assert.Equal(1, denied.Attempts);
        }

        foreach (string? key in new[] { null, "a-key-nobody-was-given" })
        {
            using var stranger = new InferenceClient(new InferenceClientOptions { Address = target, Transport = transport, ApiKey = key });
            var e = await Assert.ThrowsAsync<InferenceException>(() => stranger.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request), ClientTensors.Options(Ctr.Request)));
            Assert.Equal(InferenceStatus.Unauthenticated, e.Status);
            Assert.Equal(1, e.Attempts);
        }
    }

    [Theory]
    [InlineData(InferenceTransport.Http)]
    [InlineData(InferenceTransport.Grpc)]
    public async Task Over_mTLS_only_a_certificate_of_the_configured_CA_is_answered(InferenceTransport transport)
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        using var rogue = new ThrowawayCa("Someone else's CA");
        var (cert, key) = ca.WriteServer();
        string[] args =
        [
            "--urls", "https://127.0.0.1:0", "--grpc-urls", "https://127.0.0.1:0",
            "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa(),
        ];
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var _ = app;
        var target = transport == InferenceTransport.Grpc ? ServerFixture.GrpcAddressOf(app) : address;
        Assert.Equal("https", target.Scheme);

        using (var trusted = Client(target, transport, ca, ca.Client("fraud-service")))
        {
            await WaitReadyAsync(trusted);
            using var result = await trusted.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request), ClientTensors.Options(Ctr.Request));
            ClientTensors.AssertOutputs(Ctr.Expected, result);
        }

        foreach (var stranger in new[] { null, rogue.Client("fraud-service") })
        {
            using var client = Client(target, transport, ca, stranger);
            // The server refuses the certificate: no answer. Under TLS 1.3 the client may learn it only
            // after sending, from the broken connection, which gRPC reports as INTERNAL, not UNAVAILABLE.
            var e = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync("ctr-ranker", ClientTensors.Inputs(Ctr.Request), ClientTensors.Options(Ctr.Request)));
            Assert.True(e.Status is InferenceStatus.Unavailable or InferenceStatus.Internal, e.ToString());
            Assert.Null(e.HttpStatus);
        }
    }

    private static async Task WaitReadyAsync(InferenceClient client)
    {
        for (int i = 0; i < 300 && !await client.IsReadyAsync(); i++)
        {
            await Task.Delay(100);
        }
    }

    private static InferenceClient Client(Uri address, InferenceTransport transport, ThrowawayCa ca, X509Certificate2? certificate) =>
        new(new InferenceClientOptions
        {
            Address = address,
            Transport = transport,
            Retry = RetryPolicy.None,
            ConfigureHandler = handler =>
            {
                handler.SslOptions.ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate };
                handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    cert is not null && LowLatency.Host.Security.Tls.ChainsTo(new X509Certificate2(cert), ca.Certificate);
            },
        });
}
