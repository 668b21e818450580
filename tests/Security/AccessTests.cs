using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using LowLatency.Host;
using LowLatency.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace LowLatency.Tests.Security;

/// <summary>JWT scopes, API keys, what each route needs, and the refusal to serve the network unauthenticated.</summary>
public sealed class AccessTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a test-only signing key of more than 32 bytes!");
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private static string Token(string subject, string scope, DateTime? expires = null, byte[]? key = null, string issuer = "ll-test") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("scope", scope)]),
            Issuer = issuer,
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? Key), SecurityAlgorithms.HmacSha256),
        });

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? token = null, string? apiKey = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return await client.SendAsync(request);
    }

    private static HttpContent Infer() => ServerFixture.Body(Golden.Request.ToMsgPack(), Wire.MsgPack);

    [Fact]
    public async Task Scopes_grant_inference_per_model_and_admin_grants_the_repository()
    {
        string[] args =
        [
            "--LowLatency:Auth:Jwt:SigningKey=" + Convert.ToBase64String(Key), "--LowLatency:Auth:Jwt:Issuer=ll-test",
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-the-fraud-service", "--LowLatency:Auth:ApiKeys:0:Subject=fraud-service", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:ctr-ranker",
            "--LowLatency:Auth:Metrics=admin",
        ];
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models, args);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client); // health stays open by default: load balancers probe it

        const string infer = "/v2/models/ctr-ranker/infer";
        using (var none = await SendAsync(client, HttpMethod.Post, infer, content: Infer()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("authentication required", Wire.ErrorOf(await none.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }

        foreach (var bad in new[] { Token("a", "infer:*", key: Encoding.UTF8.GetBytes("another key that is also long enough!!")), Token("a", "infer:*", expires: DateTime.UtcNow.AddMinutes(-5)), Token("a", "infer:*", issuer: "someone-else"), "not.a.token" })
        {
            using var r = await SendAsync(client, HttpMethod.Post, infer, bad, content: Infer());
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Contains("authentication failed", Wire.ErrorOf(await r.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }

        using (var wrongModel = await SendAsync(client, HttpMethod.Post, infer, Token("search", "infer:text-encoder"), content: Infer()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, wrongModel.StatusCode);
            Assert.Contains("'search' lacks the scope 'infer:ctr-ranker'", Wire.ErrorOf(await wrongModel.Content.ReadAsByteArrayAsync(), Wire.MsgPack), StringComparison.Ordinal);
        }

        foreach (var scope in new[] { "infer:ctr-ranker", "infer:*", "admin infer:ctr-ranker" })
        {
            using var ok = await SendAsync(client, HttpMethod.Post, infer, Token("ads", scope), content: Infer());
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // API keys: the key's scopes, constant-time lookup.
        using (var key = await SendAsync(client, HttpMethod.Post, infer, apiKey: "key-of-the-fraud-service", content: Infer()))
        {
            Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        }

        using (var keyOther = await SendAsync(client, HttpMethod.Post, "/v2/models/text-encoder/infer", apiKey: "key-of-the-fraud-service", content: Infer()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, keyOther.StatusCode);
        }

        using (var badKey = await SendAsync(client, HttpMethod.Post, infer, apiKey: "guess", content: Infer()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        }

        // Metadata: inference on the model, or admin.
        using (var meta = await SendAsync(client, HttpMethod.Get, "/v2/models/ctr-ranker", Token("ads", "infer:ctr-ranker")))
        {
            Assert.Equal(HttpStatusCode.OK, meta.StatusCode);
        }

        using (var metaOther = await SendAsync(client, HttpMethod.Get, "/v2/models/image-classifier/ready", Token("ads", "infer:ctr-ranker")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, metaOther.StatusCode);
        }

        // The configuration too.
        using (var config = await SendAsync(client, HttpMethod.Get, "/v2/models/ctr-ranker/config", Token("ads", "infer:ctr-ranker")))
        using (var configOther = await SendAsync(client, HttpMethod.Get, "/v2/models/image-classifier/config", Token("ads", "infer:ctr-ranker")))
        {
            Assert.Equal(HttpStatusCode.OK, config.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, configOther.StatusCode);
        }

        // The repository API needs admin.
        using (var index = await SendAsync(client, HttpMethod.Post, "/v2/repository/index", Token("ads", "infer:*")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, index.StatusCode);
            Assert.Contains("'admin'", Wire.ErrorOf(await index.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        using (var index = await SendAsync(client, HttpMethod.Post, "/v2/repository/index", Token("mlops", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        }

        using (var traffic = await SendAsync(client, HttpMethod.Put, "/v2/repository/models/ctr-ranker/traffic", content: new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, traffic.StatusCode);
        }

        // Metrics configured admin-only; health open.
        using (var metrics = await SendAsync(client, HttpMethod.Get, "/metrics", Token("ads", "infer:*")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, metrics.StatusCode);
        }

        using (var metrics = await SendAsync(client, HttpMethod.Get, "/metrics", Token("prometheus", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        // Statistics summarise the same series: the same access.
        using (var stats = await SendAsync(client, HttpMethod.Get, "/v2/models/ctr-ranker/stats", Token("ads", "infer:*")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stats.StatusCode);
        }

        using (var stats = await SendAsync(client, HttpMethod.Get, "/v2/models/stats", Token("prometheus", "admin")))
        {
            Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        }

        using (var live = await SendAsync(client, HttpMethod.Get, "/v2/health/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    [Theory]
    [InlineData("http://0.0.0.0:8000")]
    [InlineData("http://*:8000")]
    [InlineData("http://+:8000")]
    [InlineData("http://[::]:8000")]
    [InlineData("http://10.1.2.3:8000")]
    [InlineData("http://127.0.0.1:8000;http://0.0.0.0:9000")]
    public void Binding_beyond_loopback_without_authentication_is_refused_unless_explicitly_allowed(string urls)
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", urls, "--model-repository", RepoPaths.Models]));
        Assert.Contains("refusing to listen on", e.Message, StringComparison.Ordinal);
        Assert.Contains("LowLatency:AllowInsecure", e.Message, StringComparison.Ordinal);

        // Either flag or authentication lets it start.
        using var allowed = (IDisposable)LowLatencyServer.Build(["--urls", urls, "--model-repository", RepoPaths.Models, "--LowLatency:AllowInsecure=true"]);
        using var keyed = (IDisposable)LowLatencyServer.Build(["--urls", urls, "--model-repository", RepoPaths.Models, "--LowLatency:Auth:ApiKeys:0:Key=a-key-of-16-chars", "--LowLatency:Auth:ApiKeys:0:Subject=s"]);
    }

    [Fact]
    public void The_same_api_key_twice_is_refused_naming_both_settings()
    {
        // The second entry's subject and scopes could never apply: the first match wins.
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(
        [
            "--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models,
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-the-fraud-service", "--LowLatency:Auth:ApiKeys:0:Subject=fraud", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:*",
            "--LowLatency:Auth:ApiKeys:1:Key=key-of-the-fraud-service", "--LowLatency:Auth:ApiKeys:1:Subject=mlops", "--LowLatency:Auth:ApiKeys:1:Scopes:0=admin",
        ]));
        Assert.Contains("LowLatency:Auth:ApiKeys:1:Key", e.Message, StringComparison.Ordinal);
        Assert.Contains("LowLatency:Auth:ApiKeys:0:Key", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("key-of-the-fraud-service", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--LowLatency:Auth:Metrics=admin", "LowLatency:Auth:Metrics")]
    [InlineData("--LowLatency:Auth:Health=authenticated", "LowLatency:Auth:Health")]
    public void An_access_level_with_no_authentication_to_enforce_it_is_refused(string argument, string setting)
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models, argument]));
        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
        Assert.Contains("LowLatency:Auth:Jwt or LowLatency:Auth:ApiKeys", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("closed")]
    [InlineData("admins")]
    [InlineData("7")]
    public void An_access_level_other_than_open_authenticated_or_admin_is_refused(string level)
    {
        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", RepoPaths.Models, "--LowLatency:Auth:ApiKeys:0:Key=a-key-of-16-chars", "--LowLatency:Auth:Metrics=" + level]));
        Assert.Contains("LowLatency:Auth:Metrics", e.Message, StringComparison.Ordinal);
        Assert.Contains("Open, Authenticated, Admin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_access_level_is_read_whatever_its_case()
    {
        // "Admin" once fell through to "authenticated": any key could read the metrics.
        const string inferKey = "a-key-for-inference", adminKey = "a-key-for-administration";
        var (app, address) = await ServerFixture.StartAsync(RepoPaths.Models,
        [
            "--LowLatency:Auth:Metrics=Admin",
            "--LowLatency:Auth:ApiKeys:0:Key=" + inferKey, "--LowLatency:Auth:ApiKeys:0:Subject=ads", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:*",
            "--LowLatency:Auth:ApiKeys:1:Key=" + adminKey, "--LowLatency:Auth:ApiKeys:1:Subject=prometheus", "--LowLatency:Auth:ApiKeys:1:Scopes:0=admin",
        ]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        using (var infer = await SendAsync(client, HttpMethod.Get, "/metrics", apiKey: inferKey))
        {
            Assert.Equal(HttpStatusCode.Forbidden, infer.StatusCode);
        }

        using var admin = await SendAsync(client, HttpMethod.Get, "/metrics", apiKey: adminKey);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8000", true)]
    [InlineData("http://localhost:8000", true)]
    [InlineData("http://[::1]:8000", true)]
    [InlineData("https://127.0.0.1:0", true)]
    [InlineData("http://0.0.0.0:8000", false)]
    [InlineData("http://example.com:8000", false)]
    public void Loopback_is_recognised(string url, bool loopback) => Assert.Equal(loopback, LowLatency.Host.Security.BindCheck.IsLoopback(url));
}
