using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Health.V1;
using Inference;
using LowLatency.Host;
using LowLatency.Tests.Infrastructure;
using LowLatency.Tests.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Tests.Grpc;

/// <summary>
/// The gRPC listener under the same protection as REST: JWT and API-key scopes from metadata,
/// mTLS with the TLS settings, the health service as Auth:Health says, and the refusal to listen
/// beyond loopback without authentication.
/// </summary>
public sealed class GrpcSecurityTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a test-only signing key of more than 32 bytes!");
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private static string Token(string subject, string scope) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("scope", scope)]),
            Issuer = "ll-test",
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Key), SecurityAlgorithms.HmacSha256),
        });

    [Fact]
    public async Task Scopes_from_metadata_grant_per_model_inference_and_admin_the_repository()
    {
        string[] args =
        [
            "--LowLatency:Auth:Jwt:SigningKey=" + Convert.ToBase64String(Key), "--LowLatency:Auth:Jwt:Issuer=ll-test",
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-the-fraud-service", "--LowLatency:Auth:ApiKeys:0:Subject=fraud-service", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:ctr-ranker",
            "--LowLatency:Auth:Metrics=admin", "--LowLatency:Auth:Health=authenticated",
        ];
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var _ = app;
        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Add("X-Api-Key", "key-of-the-fraud-service");
        await ServerFixture.WaitReadyAsync(http);
        using var channel = GrpcWire.Channel(ServerFixture.GrpcAddressOf(app));
        var client = GrpcWire.Client(channel);
        var apiKey = new Metadata { { "x-api-key", "key-of-the-fraud-service" } };
        var admin = new Metadata { { "authorization", "Bearer " + Token("mlops", "admin") } };

        await Expect(StatusCode.Unauthenticated, "authentication required", async () => await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Golden.Request, raw: true)));
        await Expect(StatusCode.Unauthenticated, "authentication failed", async () => await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Golden.Request, raw: true), new Metadata { { "authorization", "Bearer not-a-token" } }));
        var answer = await client.ModelInferAsync(GrpcWire.Request("ctr-ranker", Golden.Request, raw: true), apiKey);
        Wire.AssertClose(Golden.Expected[0], GrpcWire.Result(answer).Outputs[0]);
        await Expect(StatusCode.PermissionDenied, "'fraud-service' lacks the scope 'infer:text-encoder'", async () => await client.ModelInferAsync(GrpcWire.Request("text-encoder", Golden.Request, raw: true), apiKey));
        await Expect(StatusCode.PermissionDenied, "lacks the scope 'infer:text-encoder' or 'admin'", async () => await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "text-encoder" }, apiKey));
        Assert.Equal("text-encoder", (await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "text-encoder" }, admin)).Name);
        await Expect(StatusCode.PermissionDenied, "lacks the scope 'admin'", async () => await client.RepositoryIndexAsync(new RepositoryIndexRequest(), apiKey));
        Assert.NotEmpty((await client.RepositoryIndexAsync(new RepositoryIndexRequest(), admin)).Models);
        await Expect(StatusCode.PermissionDenied, "lacks the scope 'admin'", async () => await client.ModelStatisticsAsync(new ModelStatisticsRequest(), apiKey));
        Assert.NotEmpty((await client.ModelStatisticsAsync(new ModelStatisticsRequest(), admin)).ModelStats);

        // Health as Auth:Health says: any valid credential.
        var health = new Health.HealthClient(channel);
        await Expect(StatusCode.Unauthenticated, "authentication required", async () => await health.CheckAsync(new HealthCheckRequest()));
        // Kept current within 250 ms of readiness.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await health.CheckAsync(new HealthCheckRequest(), apiKey)).Status != HealthCheckResponse.Types.ServingStatus.Serving)
        {
            Assert.True(DateTime.UtcNow < deadline, "health never reported SERVING");
            await Task.Delay(50);
        }

        // On a stream: a request for a model outside the scope is answered with the refusal, the rest go on.
        using var stream = client.ModelStreamInfer(apiKey);
        await stream.RequestStream.WriteAsync(GrpcWire.Request("text-encoder", Golden.Request with { Id = "denied" }, raw: true));
        await stream.RequestStream.WriteAsync(GrpcWire.Request("ctr-ranker", Golden.Request with { Id = "allowed" }, raw: true));
        await stream.RequestStream.CompleteAsync();
        var answers = new Dictionary<string, ModelStreamInferResponse>();
        await foreach (var a in stream.ResponseStream.ReadAllAsync())
        {
            answers[a.InferResponse.Id] = a;
        }

        Assert.Contains("lacks the scope 'infer:text-encoder'", answers["denied"].ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("", answers["allowed"].ErrorMessage);

        await Expect(StatusCode.Unauthenticated, "authentication required", async () =>
        {
            using var anonymous = client.ModelStreamInfer();
            await anonymous.RequestStream.CompleteAsync();
            await anonymous.ResponseStream.MoveNext();
        });
    }

    [Fact]
    public async Task Mtls_on_the_gRPC_listener_admits_only_certificates_from_the_configured_ca()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        using var rogue = new ThrowawayCa("Someone else's CA");
        var (cert, key) = ca.WriteServer();
        string[] args =
        [
            "--urls", "https://127.0.0.1:0", "--grpc-urls", "https://127.0.0.1:0",
            "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa(),
        ];
        var (app, _) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var __ = app;
        var grpc = ServerFixture.GrpcAddressOf(app);
        Assert.Equal("https", grpc.Scheme);

        using (var channel = GrpcWire.Channel(grpc, Handler(ca, ca.Client("fraud-service"))))
        {
            await GrpcWire.WaitReadyAsync(GrpcWire.Client(channel));
            var answer = await GrpcWire.Client(channel).ModelInferAsync(GrpcWire.Request("ctr-ranker", Golden.Request, raw: true));
            Wire.AssertClose(Golden.Expected[0], GrpcWire.Result(answer).Outputs[0]);
        }

        foreach (var stranger in new[] { null, rogue.Client("fraud-service") })
        {
            using var channel = GrpcWire.Channel(grpc, Handler(ca, stranger));
            var e = await Assert.ThrowsAsync<RpcException>(async () => await GrpcWire.Client(channel).ServerLiveAsync(new ServerLiveRequest()));
            // Under TLS 1.3 the client may finish its side of the handshake and send the request before
            // the server's alert arrives: the refusal then ends the call while it runs (Internal),
            // rather than before it starts (Unavailable). Either way the call was never served.
            Assert.True(e.StatusCode is StatusCode.Unavailable or StatusCode.Internal, $"a client without the CA's certificate got {e.StatusCode}: {e.Status.Detail}");

        }
    }

    [Theory]
    [InlineData("http://0.0.0.0:8001")]
    [InlineData("http://[::]:8001")]
    [InlineData("http://127.0.0.1:8001;http://10.1.2.3:8001")]
    public void The_gRPC_listener_beyond_loopback_is_refused_without_authentication(string grpcUrls)
    {
        string[] args = ["--urls", "http://127.0.0.1:0", "--grpc-urls", grpcUrls, "--model-repository", RepoPaths.Models];
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(args));
        Assert.Contains("refusing to listen on", e.Message, StringComparison.Ordinal);
        Assert.Contains(grpcUrls.Split(';')[^1], e.Message, StringComparison.Ordinal);

        using var allowed = (IDisposable)LowLatencyServer.Build([.. args, "--LowLatency:AllowInsecure=true"]);
        using var keyed = (IDisposable)LowLatencyServer.Build([.. args, "--LowLatency:Auth:ApiKeys:0:Key=a-key-of-16-chars", "--LowLatency:Auth:ApiKeys:0:Subject=s"]);
    }

    [Fact]
    public void Mtls_protects_an_https_gRPC_listener_and_an_empty_list_turns_it_off()
    {
        using var ca = new ThrowawayCa("LowLatency test CA");
        var (cert, key) = ca.WriteServer();
        string[] tls = ["--model-repository", RepoPaths.Models, "--LowLatency:Tls:CertificateFile=" + cert, "--LowLatency:Tls:KeyFile=" + key, "--LowLatency:Tls:ClientCaFile=" + ca.WriteCa()];
        // The TLS settings need an https:// URL: the gRPC one is enough, and mTLS protects it beyond loopback.
        using var https = (IDisposable)LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--grpc-urls", "https://0.0.0.0:8001", .. tls]);
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "https://127.0.0.1:0", "--grpc-urls", "http://0.0.0.0:8001", .. tls]));
        Assert.Contains("refusing to listen on http://0.0.0.0:8001 without authentication", e.Message, StringComparison.Ordinal);

        // No gRPC listener at all: nothing of it is checked or served.
        using var off = (IDisposable)LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--grpc-urls=", "--model-repository", RepoPaths.Models]);
    }

    private static SocketsHttpHandler Handler(ThrowawayCa ca, X509Certificate2? clientCert) => new()
    {
        SslOptions =
        {
            ClientCertificates = clientCert is null ? null : new X509CertificateCollection { clientCert },
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && LowLatency.Host.Security.Tls.ChainsTo(new X509Certificate2(cert), ca.Certificate),
        },
    };

    private static async Task Expect(StatusCode status, string detail, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(status == e.StatusCode, $"expected {status}, got {e.StatusCode}: {e.Status.Detail}");
        Assert.Contains(detail, e.Status.Detail, StringComparison.Ordinal);
    }
}
