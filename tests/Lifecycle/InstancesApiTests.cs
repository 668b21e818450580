using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Lifecycle;

/// <summary>
/// <c>PUT /v2/repository/models/{name}/instances</c> through Kestrel: the admin scope, refusals that
/// name the field, and the count reflected in the index, the served configuration and the metrics.
/// </summary>
public sealed class InstancesApiTests
{
    private const string InferKey = "a-key-that-may-only-infer", AdminKey = "a-key-for-the-operators";

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient client, HttpMethod method, string path, string? key, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Only_admin_changes_instances_bad_bodies_name_the_field_and_the_index_config_and_metrics_follow()
    {
        using var repo = new CtrRepository(name: "scale-api", versions: 1);
        string[] args =
        [
            "--LowLatency:Auth:ApiKeys:0:Key=" + InferKey, "--LowLatency:Auth:ApiKeys:0:Subject=ads", "--LowLatency:Auth:ApiKeys:0:Scopes:0=infer:*",
            "--LowLatency:Auth:ApiKeys:1:Key=" + AdminKey, "--LowLatency:Auth:ApiKeys:1:Subject=mlops", "--LowLatency:Auth:ApiKeys:1:Scopes:0=admin",
        ];
        var (app, address) = await ServerFixture.StartAsync(repo.Root, args);
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        await ServerFixture.WaitReadyAsync(client);
        const string path = "/v2/repository/models/scale-api/instances";

        // The repository API's scope.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(client, HttpMethod.Put, path, null, """{"count": 2}""")).Status);
        var forbidden = await SendAsync(client, HttpMethod.Put, path, InferKey, """{"count": 2}""");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Status);
        Assert.Contains("'admin'", forbidden.Body, StringComparison.Ordinal);

        // Refusals name what is wrong.
        foreach (var (body, field) in new[]
        {
            ("", "expected {\\\"count\\\": N}"),
            ("[2]", "expected {\\\"count\\\": N}"),
            ("""{"cont": 2}""", "'cont': unknown field"),
            ("""{}""", "count: missing"),
            ("""{"count": "2"}""", "count: expected an integer"),
            ("""{"count": 2.5}""", "count: expected an integer"),
            ("""{"count": 0}""", "count: must be within 1"),
            ("""{"count": 65}""", "count: must be within 1"),
            ("""{"count": 2, "group": 1}""", "group: expected"),
            ("""{"count": 2, "group": "gpus"}""", "group: model 'scale-api' has no instance group named 'gpus'"),
            ("""{"count": 2""", "malformed JSON body"),
        })
        {
            var refused = await SendAsync(client, HttpMethod.Put, path, AdminKey, body);
            Assert.True(refused.Status == HttpStatusCode.BadRequest, $"{body}: {refused.Status} {refused.Body}");
            Assert.Contains(field, refused.Body, StringComparison.Ordinal);
        }

        var unknown = await SendAsync(client, HttpMethod.Put, "/v2/repository/models/no-such-model/instances", AdminKey, """{"count": 2}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Contains("'no-such-model'", unknown.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(client, HttpMethod.Put, "/v2/repository/models/scale-api/versions/9/instances", AdminKey, """{"count": 2}""")).Status);
        var badVersion = await SendAsync(client, HttpMethod.Put, "/v2/repository/models/scale-api/versions/x1/instances", AdminKey, """{"count": 2}""");
        Assert.Equal(HttpStatusCode.BadRequest, badVersion.Status);
        Assert.Contains("version 'x1' is not a positive integer", badVersion.Body, StringComparison.Ordinal);

        // A change, by version: the index, the served configuration and the metric say 3.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Put, "/v2/repository/models/scale-api/versions/1/instances", AdminKey, """{"count": 3}""")).Status);
        var index = await SendAsync(client, HttpMethod.Post, "/v2/repository/index", AdminKey);
        var entry = JsonNode.Parse(index.Body)!.AsArray().Single(e => (string?)e!["name"] == "scale-api")!;
        Assert.Equal(3, (int)entry["instances"]!);
        var config = await SendAsync(client, HttpMethod.Get, "/v2/models/scale-api/config", InferKey);
        Assert.Equal(3, (int)JsonNode.Parse(config.Body)!["instance_group"]![0]!["count"]!);
        var metrics = await SendAsync(client, HttpMethod.Get, "/metrics", AdminKey);
        Assert.Contains("lowlatency_engine_instances{model=\"scale-api\",version=\"1\"} 3", metrics.Body, StringComparison.Ordinal);

        // And back to one, for every served version; inference still answers.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Put, path, AdminKey, """{"count": 1}""")).Status);
        config = await SendAsync(client, HttpMethod.Get, "/v2/models/scale-api/config", InferKey);
        Assert.Equal(1, (int)JsonNode.Parse(config.Body)!["instance_group"]![0]!["count"]!);
        using var infer = new HttpRequestMessage(HttpMethod.Post, "/v2/models/scale-api/infer") { Content = ServerFixture.Body(GoldenCase.Load("ctr-ranker", "batch1").Request.ToMsgPack(), Wire.MsgPack) };
        infer.Headers.Add("X-Api-Key", InferKey);
        using var answer = await client.SendAsync(infer);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(CtrRepository.Expected, Wire.ParseMsgPack(await answer.Content.ReadAsByteArrayAsync()).Outputs[0].Values[0], 4);
    }
}
