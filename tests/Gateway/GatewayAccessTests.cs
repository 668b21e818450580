using System.Net;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Gateway;

/// <summary>The gateway's admin routes (<c>/v2/gateway…</c>) with authentication on: the <c>admin</c> scope, as the repository routes.</summary>
public sealed class GatewayAccessTests
{
    private const string InferKey = "a-key-for-inference", AdminKey = "a-key-for-administration";

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? apiKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task The_gateway_routes_need_the_admin_scope()
    {
        using var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        string aliases = Path.Combine(repo.Root, "aliases.json");
        File.WriteAllText(aliases, """{ "aliases": { "rank": { "backends": [ { "model": "ctr-a", "weight": 1 } ] } } }""");
        var (app, address) = await ServerFixture.StartAsync(repo.Root,
        [
            "--LowLatency:Auth:ApiKeys:0:Key=" + InferKey, "--LowLatency:Auth:ApiKeys:0:Subject=ads", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:*",
            "--LowLatency:Auth:ApiKeys:1:Key=" + AdminKey, "--LowLatency:Auth:ApiKeys:1:Subject=sre", "--LowLatency:Auth:ApiKeys:1:Scopes:0=admin",
        ]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        // The file changes on disk; only an admin's reload may take it.
        File.WriteAllText(aliases, """{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "weight": 1 } ] } } }""");
        (HttpMethod Method, string Path)[] routes = [(HttpMethod.Get, "/v2/gateway"), (HttpMethod.Get, "/v2/gateway/rank"), (HttpMethod.Post, "/v2/gateway/reload")];
        foreach (var (method, path) in routes)
        {
            using (var anonymous = await SendAsync(client, method, path, null))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
                Assert.Contains("authentication required", Wire.ErrorOf(await anonymous.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
            }

            using (var wrongKey = await SendAsync(client, method, path, "a-key-nobody-has"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
            }

            using var infer = await SendAsync(client, method, path, InferKey);
            Assert.Equal(HttpStatusCode.Forbidden, infer.StatusCode);
            Assert.Contains("'ads' lacks the scope 'admin'", Wire.ErrorOf(await infer.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        // Refused, the reload changed nothing: rank is still served, score is not.
        using (var table = await SendAsync(client, HttpMethod.Get, "/v2/gateway", AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, table.StatusCode);
            Assert.Equal("""{"aliases":["rank"]}""", await table.Content.ReadAsStringAsync());
        }

        using (var row = await SendAsync(client, HttpMethod.Get, "/v2/gateway/rank", AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, row.StatusCode);
            Assert.Contains("\"alias\":\"rank\"", await row.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var reload = await SendAsync(client, HttpMethod.Post, "/v2/gateway/reload", AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
            Assert.Equal("""{"aliases":["score"]}""", await reload.Content.ReadAsStringAsync());
        }

        // Inference on an alias stays an inference scope's.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/score/infer") { Content = ServerFixture.Body(GoldenCase.Load("ctr-ranker", "batch1").Request.ToJson(), Wire.Json) };
        request.Headers.Add("X-Api-Key", InferKey);
        using var answer = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("ctr-b", answer.Headers.GetValues("X-LowLatency-Backend").Single());
    }
}
