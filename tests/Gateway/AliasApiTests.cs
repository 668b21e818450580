using System.Net;
using System.Text;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Gateway;

/// <summary>The alias file written through the repository API (<c>PUT /v2/repository/aliases</c>) on a real server.</summary>
public sealed class AliasApiTests
{
    private static readonly GoldenCase Golden = GoldenCase.Load("ctr-ranker", "batch1");

    private const string Initial = """{ "aliases": { "rank": { "backends": [ { "name": "a", "model": "ctr-a", "weight": 1 } ] } } }""";

    private static CtrRepository Repository()
    {
        var repo = new CtrRepository(name: "ctr-a", versions: 1);
        repo.AddCopy("ctr-b");
        File.WriteAllText(AliasFileOf(repo), Initial);
        return repo;
    }

    private static string AliasFileOf(CtrRepository repo) => Path.Combine(repo.Root, "aliases.json");

    private static async Task<(HttpStatusCode Status, string? Backend, InferResult? Result)> InferAsync(HttpClient client, string model)
    {
        using var response = await client.PostAsync($"/v2/models/{model}/infer", ServerFixture.Body(Golden.Request.ToJson(), Wire.Json));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string? backend = response.Headers.TryGetValues("X-LowLatency-Backend", out var v) ? v.Single() : null;
        return (response.StatusCode, backend, response.IsSuccessStatusCode ? Wire.ParseJson(body) : null);
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, string body, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v2/repository/aliases") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_put_alias_file_serves_at_once_is_kept_in_the_repository_and_survives_a_restart()
    {
        using var repo = Repository();
        const string score = """
            {
              // comments are allowed, as in the file
              "aliases": { "score": { "backends": [ { "name": "bee", "model": "ctr-b", "weight": 1 } ] } }
            }
            """;
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using (app)
        {
            using var client = new HttpClient { BaseAddress = address };
            await ServerFixture.WaitReadyAsync(client);
            Assert.Equal("a", (await InferAsync(client, "rank")).Backend);

            using (var put = await PutAsync(client, score))
            {
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                Assert.Equal("""{"aliases":["score"]}""", await put.Content.ReadAsStringAsync());
            }

            // The new alias is answered by its backend; the one the file no longer has is gone.
            var (status, backend, result) = await InferAsync(client, "score");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("bee", backend);
            Assert.Equal("ctr-b", result!.ModelName);
            Assert.Equal(CtrRepository.Expected, (float)result.Outputs[0].Values[0], 4);
            Assert.Equal(HttpStatusCode.NotFound, (await InferAsync(client, "rank")).Status);
            Assert.Equal("""{"aliases":["score"]}""", await client.GetStringAsync("/v2/gateway"));
            Assert.Contains("\"name\":\"bee\"", await client.GetStringAsync("/v2/gateway/score"), StringComparison.Ordinal);

            // The file holds the body as it was sent, read back as it is stored; no temporary file is left beside it.
            Assert.Equal(score, File.ReadAllText(AliasFileOf(repo)));
            Assert.Equal(score, await client.GetStringAsync("/v2/repository/aliases"));
            Assert.Equal([AliasFileOf(repo)], Directory.GetFiles(repo.Root));
        }

        // A new server on the same repository serves what was put.
        var (again, againAddress) = await ServerFixture.StartAsync(repo.Root);
        await using (again)
        {
            using var client = new HttpClient { BaseAddress = againAddress };
            await ServerFixture.WaitReadyAsync(client);
            Assert.Equal("bee", (await InferAsync(client, "score")).Backend);

            // {"aliases": {}} removes every alias; GET then gives the empty file.
            using var none = await PutAsync(client, """{"aliases":{}}""");
            Assert.Equal(HttpStatusCode.OK, none.StatusCode);
            Assert.Equal("""{"aliases":[]}""", await none.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.NotFound, (await InferAsync(client, "score")).Status);
        }
    }

    [Theory]
    [InlineData("""{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "weight": 0 } ] } } }""", "field 'aliases.score.backends[0].weight': must be within 1")]
    [InlineData("""{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "weight": 1, "colour": "red" } ] } } }""", "field 'aliases.score.backends[0].colour': unknown field")]
    [InlineData("""{ "aliases": { "ctr-b": { "backends": [ { "model": "ctr-a", "weight": 1 } ] } } }""", "field 'aliases.ctr-b': 'ctr-b' is a model of the repository")]
    [InlineData("""{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "weight": 1, "api_key": "plain-secret" } ] } } }""", "field 'aliases.score.backends[0].api_key'")]
    [InlineData("""{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "url": "http://127.0.0.1:9", "weight": 1, "bearer_token": "${HOME}" } ] } } }""", "field 'aliases.score.backends[0].bearer_token': through the repository API a credential names only an environment variable whose name starts with LOWLATENCY_GATEWAY_")]
    [InlineData("""{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "url": "https://127.0.0.1:9", "weight": 1, "tls": { "ca": "../../etc/ssl/certs/ca-certificates.crt" } } ] } } }""", "field 'aliases.score.backends[0].tls.ca': through the repository API a PEM file must be inside the repository")]
    [InlineData("""{ "alias": {} }""", "field 'alias': unknown field")]
    [InlineData("""{ "aliases": { "score": """, "is not valid JSON")]
    [InlineData("", "expected the whole alias file as the body")]
    public async Task A_bad_alias_file_is_refused_naming_the_field_and_changes_nothing(string body, string expected)
    {
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        using (var put = await PutAsync(client, body))
        {
            Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
            Assert.Contains(expected, Wire.ErrorOf(await put.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        // The table and the file in force stay.
        var (status, backend, _) = await InferAsync(client, "rank");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("a", backend);
        Assert.Equal(HttpStatusCode.NotFound, (await InferAsync(client, "score")).Status);
        Assert.Equal("""{"aliases":["rank"]}""", await client.GetStringAsync("/v2/gateway"));
        Assert.Equal(Initial, File.ReadAllText(AliasFileOf(repo)));
        Assert.Equal([AliasFileOf(repo)], Directory.GetFiles(repo.Root));
    }

    [Fact]
    public async Task A_credential_variable_with_the_api_prefix_or_named_by_the_stored_file_is_accepted()
    {
        Environment.SetEnvironmentVariable("LOWLATENCY_GATEWAY_ALIAS_API_TEST", "a-key-through-the-api");
        Environment.SetEnvironmentVariable("ALIAS_API_TEST_OPERATOR_KEY", "a-key-of-the-operator");
        using var repo = Repository();
        string stored = """{ "aliases": { "far": { "backends": [ { "model": "ctr-ranker", "url": "http://127.0.0.1:9", "weight": 1, "api_key": "${ALIAS_API_TEST_OPERATOR_KEY}" } ] } } }""";
        File.WriteAllText(AliasFileOf(repo), stored);
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        // The file read back is put back as it is, though its variable has no prefix: the operator named it.
        using (var back = await PutAsync(client, await client.GetStringAsync("/v2/repository/aliases")))
        {
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        }

        // But not toward another server: the operator's key would be sent to whoever listens there.
        using (var elsewhere = await PutAsync(client, stored.Replace("http://127.0.0.1:9", "http://127.0.0.1:10", StringComparison.Ordinal)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
            Assert.Contains("for the same url and grpc_url", Wire.ErrorOf(await elsewhere.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }


        string prefixed = stored.Replace("ALIAS_API_TEST_OPERATOR_KEY", "LOWLATENCY_GATEWAY_ALIAS_API_TEST", StringComparison.Ordinal);
        using (var put = await PutAsync(client, prefixed))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        Assert.Equal(prefixed, File.ReadAllText(AliasFileOf(repo)));

        // Now the stored file names only the prefixed one: the operator's is refused.
        using var refused = await PutAsync(client, stored);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("field 'aliases.far.backends[0].api_key'", Wire.ErrorOf(await refused.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_refused_and_changes_nothing()
    {
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        string padded = "{ \"aliases\": {} " + new string(' ', 1 << 20) + "}";
        using (var put = await PutAsync(client, padded))
        {
            Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
            Assert.Contains("exceeds 1048576 bytes", Wire.ErrorOf(await put.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        Assert.Equal("a", (await InferAsync(client, "rank")).Backend);
        Assert.Equal(Initial, File.ReadAllText(AliasFileOf(repo)));
    }

    [Fact]
    public async Task Putting_the_alias_file_needs_the_admin_scope()
    {
        const string inferKey = "a-key-for-inference", adminKey = "a-key-for-administration";
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root,
        [
            "--LowLatency:Auth:ApiKeys:0:Key=" + inferKey, "--LowLatency:Auth:ApiKeys:0:Subject=ads", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:*",
            "--LowLatency:Auth:ApiKeys:1:Key=" + adminKey, "--LowLatency:Auth:ApiKeys:1:Subject=sre", "--LowLatency:Auth:ApiKeys:1:Scopes:0=admin",
        ]);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client); // health stays open by default
        const string score = """{ "aliases": { "score": { "backends": [ { "model": "ctr-b", "weight": 1 } ] } } }""";

        using (var anonymous = await PutAsync(client, score))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var infer = await PutAsync(client, score, inferKey))
        {
            Assert.Equal(HttpStatusCode.Forbidden, infer.StatusCode);
            Assert.Contains("'admin'", Wire.ErrorOf(await infer.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        using (var read = new HttpRequestMessage(HttpMethod.Get, "/v2/repository/aliases"))
        {
            read.Headers.Add("X-Api-Key", inferKey);
            using var refused = await client.SendAsync(read);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/v2/repository/aliases/rank"))
        {
            delete.Headers.Add("X-Api-Key", inferKey);
            using var refused = await client.SendAsync(delete);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.Equal(Initial, File.ReadAllText(AliasFileOf(repo)));

        using (var admin = await PutAsync(client, score, adminKey))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        Assert.Equal(score, File.ReadAllText(AliasFileOf(repo)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/score/infer") { Content = ServerFixture.Body(Golden.Request.ToJson(), Wire.Json) };
        request.Headers.Add("X-Api-Key", inferKey);
        using var answer = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("ctr-b", answer.Headers.GetValues("X-LowLatency-Backend").Single());
    }

    [Fact]
    public async Task One_alias_is_set_and_removed_through_its_own_route_and_the_others_stay()
    {
        using var repo = Repository();
        var (app, address) = await ServerFixture.StartAsync(repo.Root);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);

        using (var put = await client.PutAsync("/v2/repository/aliases/score", new StringContent("""{ "backends": [ { "name": "bee", "model": "ctr-b", "weight": 1 } ] }""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal(["rank", "score"], Names(await put.Content.ReadAsStringAsync()));
        }

        Assert.Equal("bee", (await InferAsync(client, "score")).Backend);
        Assert.Equal("a", (await InferAsync(client, "rank")).Backend);

        // A bad definition is refused with its field, in the file's terms; the one in force stays.
        using (var bad = await client.PutAsync("/v2/repository/aliases/score", new StringContent("""{ "backends": [ { "model": "ctr-a", "weight": 0 } ] }""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("field 'aliases.score.backends[0].weight'", Wire.ErrorOf(await bad.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        using (var model = await client.PutAsync("/v2/repository/aliases/ctr-a", new StringContent("""{ "backends": [ { "model": "ctr-b", "weight": 1 } ] }""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, model.StatusCode);
            Assert.Contains("'ctr-a' is a model of the repository", Wire.ErrorOf(await model.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        Assert.Equal("bee", (await InferAsync(client, "score")).Backend);

        using (var delete = await client.DeleteAsync("/v2/repository/aliases/rank"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
            Assert.Equal(["score"], Names(await delete.Content.ReadAsStringAsync()));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await InferAsync(client, "rank")).Status);
        Assert.Equal("bee", (await InferAsync(client, "score")).Backend);
        using (var again = await client.DeleteAsync("/v2/repository/aliases/rank"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            Assert.Contains("has no alias 'rank'", Wire.ErrorOf(await again.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
        }

        // The file holds what is served: score alone, as it was put.
        using var file = System.Text.Json.JsonDocument.Parse(File.ReadAllText(AliasFileOf(repo)));
        var aliases = file.RootElement.GetProperty("aliases");
        Assert.Equal(["score"], aliases.EnumerateObject().Select(p => p.Name));
        Assert.Equal("bee", aliases.GetProperty("score").GetProperty("backends")[0].GetProperty("name").GetString());
    }

    private static string[] Names(string answer)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(answer);
        return [.. doc.RootElement.GetProperty("aliases").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal)];
    }
}
