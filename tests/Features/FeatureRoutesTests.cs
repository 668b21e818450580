using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LowLatency.Features.Serving;
using LowLatency.Host;
using LowLatency.Tests.Infrastructure;
using MessagePack;
using Microsoft.Extensions.DependencyInjection;

namespace LowLatency.Tests.Features;

/// <summary>
/// Feast's routes on the server (<c>POST /get-online-features</c>, <c>POST /push</c>) over the example
/// repository as shipped, its store the embedded Garnet: answers in Feast's shapes in JSON and
/// MessagePack, each refusal's status and message, scopes, metrics, and the setting at start-up.
/// Each test uses ids of its own.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class FeatureRoutesTests(FeatureRoutesFixture fixture) : IClassFixture<FeatureRoutesFixture>
{
    private const string Epoch = "1970-01-01T00:00:00Z";

    private static long _nextId = 5000;

    private HttpClient Client => fixture.Client;

    private static long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>A minute ago, at .250 s: an event time whose answer text is known exactly.</summary>
    private static DateTimeOffset Recent()
    {
        var t = DateTimeOffset.UtcNow.AddMinutes(-1);
        return new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, 250, TimeSpan.Zero);
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string UserPush(long id, DateTimeOffset time, double ctr = 0.25) => string.Create(CultureInfo.InvariantCulture, $$$"""
        {"push_source_name": "user_activity_push", "to": "online", "df": {"user_id": [{{{id}}}], "event_timestamp": ["{{{time:O}}}"],
         "clicks_1h": [3], "impressions_1h": [30], "clicks_24h": [6], "impressions_24h": [60], "ctr_24h": [{{{ctr}}}], "ctr_7d": [0.05],
         "recent_categories": [[1, 2, 3, 4]]}}
        """);

    private static string ItemPush(long id, DateTimeOffset time) => string.Create(CultureInfo.InvariantCulture, $$$"""
        {"push_source_name": "item_catalog_push", "df": {"item_id": [{{{id}}}], "event_timestamp": ["{{{time:O}}}"],
         "category": [7], "subcategory": [8], "brand": [9], "price": [12.5], "quality_score": [0.75], "title_embedding": [[0, 1, 2, 3, 4, 5, 6, 7.5]]}}
        """);

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, byte[] body, string contentType, string? apiKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ServerFixture.Body(body, contentType) };
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return client.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) => PostAsync(Client, path, Encoding.UTF8.GetBytes(json), Wire.Json);

    private static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
            Assert.Equal(Wire.Json, response.Content.Headers.ContentType!.MediaType);
            return JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public async Task A_push_then_a_feature_service_read_answer_in_Feasts_shapes()
    {
        long user = NextId(), stale = NextId(), unknownUser = NextId(), item = NextId(), unknownItem = NextId();
        var recent = Recent();
        var old = recent.AddDays(-2); // past user_activity's max age of a day; item_static has none
        var pushed = await OkJsonAsync(await PostJsonAsync("/push", UserPush(user, recent)));
        Assert.Equal(1, pushed.GetProperty("written").GetInt32());
        Assert.Equal(0, pushed.GetProperty("skipped").GetInt32());
        await OkJsonAsync(await PostJsonAsync("/push", UserPush(stale, old)));
        await OkJsonAsync(await PostJsonAsync("/push", ItemPush(item, old)));

        var answer = await OkJsonAsync(await PostJsonAsync("/get-online-features", $$$"""
            {"feature_service": "ctr_ranker", "entities": {"user_id": [{{{user}}}, {{{stale}}}, {{{unknownUser}}}], "item_id": [{{{item}}}, {{{item}}}, {{{unknownItem}}}]}}
            """));

        Assert.Equal(
            ["user_id", "item_id", "clicks_1h", "impressions_1h", "clicks_24h", "impressions_24h", "ctr_24h", "ctr_7d", "recent_categories", "category", "subcategory", "brand", "price", "quality_score", "title_embedding"],
            Strings(answer.GetProperty("metadata").GetProperty("feature_names")));
        var results = answer.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(15, results.Length);
        Assert.All(results, r => Assert.Equal(["values", "statuses", "event_timestamps"], r.EnumerateObject().Select(p => p.Name)));

        // Entity columns: the ids, PRESENT, at the epoch, as Feast answers them.
        Assert.Equal([user, stale, unknownUser], results[0].GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal(["PRESENT", "PRESENT", "PRESENT"], Strings(results[0].GetProperty("statuses")));
        Assert.Equal([Epoch, Epoch, Epoch], Strings(results[0].GetProperty("event_timestamps")));

        var ctr = results[6];
        Assert.Equal(0.25, ctr.GetProperty("values")[0].GetDouble());
        Assert.Equal(0.25, ctr.GetProperty("values")[1].GetDouble());
        Assert.Equal(JsonValueKind.Null, ctr.GetProperty("values")[2].ValueKind);
        Assert.Equal(["PRESENT", "OUTSIDE_MAX_AGE", "NOT_FOUND"], Strings(ctr.GetProperty("statuses")));
        Assert.Equal([Iso(recent), Iso(old), Epoch], Strings(ctr.GetProperty("event_timestamps")));
        Assert.Equal("[1,2,3,4]", results[8].GetProperty("values")[0].GetRawText());

        var category = results[9];
        Assert.Equal("[7,7,null]", category.GetProperty("values").GetRawText());
        Assert.Equal(["PRESENT", "PRESENT", "NOT_FOUND"], Strings(category.GetProperty("statuses")));
        Assert.Equal("[0,1,2,3,4,5,6,7.5]", results[14].GetProperty("values")[0].GetRawText());
    }

    [Fact]
    public async Task MessagePack_is_taken_and_answered_with_the_same_document()
    {
        long id = NextId();
        var recent = Recent();
        var push = new Dictionary<string, object?>
        {
            ["push_source_name"] = "user_activity_push",
            ["df"] = new Dictionary<string, object?>
            {
                ["user_id"] = new object[] { id },
                ["event_timestamp"] = new object[] { recent.UtcDateTime }, // MessagePack's timestamp extension
                ["clicks_1h"] = new object[] { 3f },
                ["impressions_1h"] = new object[] { 30 },
                ["clicks_24h"] = new object[] { 6.0 },
                ["impressions_24h"] = new object[] { 60 },
                ["ctr_24h"] = new object[] { 0.5 },
                ["ctr_7d"] = new object[] { 0.05 },
                ["recent_categories"] = new object[] { new long[] { 4, 3, 2, 1 } },
            },
        };
        using (var pushed = await PostAsync(Client, "/push", MessagePackSerializer.Serialize<object>(push), Wire.MsgPack))
        {
            Assert.Equal(HttpStatusCode.OK, pushed.StatusCode);
            Assert.Equal(Wire.MsgPack, pushed.Content.Headers.ContentType!.MediaType);
            var result = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(await pushed.Content.ReadAsByteArrayAsync())!;
            Assert.Equal(1L, Convert.ToInt64(result["written"], CultureInfo.InvariantCulture));
        }

        var read = new Dictionary<string, object?>
        {
            ["features"] = new object[] { "user_activity:ctr_24h", "user_activity:recent_categories" },
            ["entities"] = new Dictionary<string, object?> { ["user_id"] = new object[] { id, NextId() } },
            ["full_feature_names"] = false,
        };
        using var response = await PostAsync(Client, "/get-online-features", MessagePackSerializer.Serialize<object>(read), Wire.MsgPack);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Wire.MsgPack, response.Content.Headers.ContentType!.MediaType);
        var answer = (Dictionary<object, object>)MessagePackSerializer.Deserialize<object>(await response.Content.ReadAsByteArrayAsync())!;
        Assert.Equal(["user_id", "ctr_24h", "recent_categories"], ((object[])((Dictionary<object, object>)answer["metadata"])["feature_names"]).Cast<string>());
        var results = ((object[])answer["results"]).Cast<Dictionary<object, object>>().ToArray();
        Assert.Equal(0.5f, ((object[])results[1]["values"])[0]);
        Assert.Null(((object[])results[1]["values"])[1]);
        Assert.Equal(["PRESENT", "NOT_FOUND"], ((object[])results[1]["statuses"]).Cast<string>());
        Assert.Equal([Iso(recent), Epoch], ((object[])results[1]["event_timestamps"]).Cast<string>());
        Assert.Equal([4L, 3L, 2L, 1L], ((object[])((object[])results[2]["values"])[0]).Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Full_feature_names_are_view__feature()
    {
        var answer = await OkJsonAsync(await PostJsonAsync("/get-online-features", """
            {"features": ["user_activity:ctr_24h", "item_static:price"], "entities": {"user_id": [1], "item_id": [2]}, "full_feature_names": true}
            """));

        Assert.Equal(["user_id", "item_id", "user_activity__ctr_24h", "item_static__price"], Strings(answer.GetProperty("metadata").GetProperty("feature_names")));
    }

    [Fact]
    public async Task An_older_push_does_not_overwrite_a_newer_row()
    {
        long id = NextId();
        var recent = Recent();
        await OkJsonAsync(await PostJsonAsync("/push", UserPush(id, recent, ctr: 0.25)));

        var older = await OkJsonAsync(await PostJsonAsync("/push", UserPush(id, recent.AddSeconds(-1), ctr: 0.75)));

        Assert.Equal(0, older.GetProperty("written").GetInt32());
        Assert.Equal(1, older.GetProperty("skipped").GetInt32());
        var answer = await OkJsonAsync(await PostJsonAsync("/get-online-features", $$$"""{"features": ["user_activity:ctr_24h"], "entities": {"user_id": [{{{id}}}]}}"""));
        var column = answer.GetProperty("results")[1];
        Assert.Equal(0.25, column.GetProperty("values")[0].GetDouble());
        Assert.Equal(Iso(recent), column.GetProperty("event_timestamps")[0].GetString());
    }

    public static TheoryData<string, string, string, HttpStatusCode, string> Refusals() => new()
    {
        // route, Content-Type, body (hex for MessagePack), status, part of the message
        { "/get-online-features", Wire.Json, """{"features": ["nope:ctr_24h"], "entities": {"user_id": [1]}}""", HttpStatusCode.NotFound, "no feature view \"nope\" is defined" },
        { "/get-online-features", Wire.Json, """{"feature_service": "nope", "entities": {"user_id": [1]}}""", HttpStatusCode.NotFound, "no feature service \"nope\"" },
        { "/get-online-features", Wire.Json, """{"features": ["user_activity:ctr_24h"], "entities": {"user_id": ["abc"]}}""", HttpStatusCode.BadRequest, "\"user_id\"[0]: \"abc\" is not an id" },
        { "/get-online-features", Wire.Json, """{"features": ["user_activity:ctr_24h"], "entities": {"user_id": 1}}""", HttpStatusCode.BadRequest, "\"entities\".'user_id' must be a list of values" },
        { "/get-online-features", Wire.Json, """{"features": ["user_activity:ctr_24h"]}""", HttpStatusCode.BadRequest, "\"entities\" is required" },
        { "/get-online-features", Wire.Json, """{"feature": [], "entities": {}}""", HttpStatusCode.BadRequest, "unknown field 'feature'" },
        { "/get-online-features", Wire.Json, """{"features": ["user_activity:ctr_24h"], "entities": {"user_id": [1]""", HttpStatusCode.BadRequest, "malformed JSON body" },
        { "/get-online-features", Wire.Json, "", HttpStatusCode.BadRequest, "the request body is empty" },
        { "/get-online-features", Wire.Json, "[1]", HttpStatusCode.BadRequest, "the body must be a JSON object" },
        { "/get-online-features", "text/plain", "{}", HttpStatusCode.UnsupportedMediaType, "unsupported Content-Type 'text/plain'" },
        { "/push", Wire.Json, """{"push_source_name": "nope", "df": {"user_id": [1]}}""", HttpStatusCode.UnprocessableEntity, "no push source \"nope\" is defined" },
        { "/push", Wire.Json, UserPush(1, DateTimeOffset.UtcNow).Replace("\"clicks_1h\": [3]", "\"clicks_1h\": [\"many\"]", StringComparison.Ordinal), HttpStatusCode.BadRequest, "\"clicks_1h\"[0]: \"many\" is not a FP32 value" },
        { "/push", Wire.Json, UserPush(1, DateTimeOffset.UtcNow).Replace("\"online\"", "\"offline\"", StringComparison.Ordinal), HttpStatusCode.BadRequest, "needs an offline store" },
        { "/push", Wire.Json, """{"df": {}}""", HttpStatusCode.BadRequest, "\"push_source_name\" is required" },
        // {"features": <0xc1, a code MessagePack never uses>}
        { "/get-online-features", Wire.MsgPack, "81A86665617475726573C1", HttpStatusCode.BadRequest, "malformed MessagePack body" },
        // A map of two entries that ends after its header.
        { "/push", Wire.MsgPack, "82", HttpStatusCode.BadRequest, "malformed MessagePack body" },
        // {"push_source_name": "nope", "df": {}}
        { "/push", Wire.MsgPack, "82B0707573685F736F757263655F6E616D65A46E6F7065A2646680", HttpStatusCode.UnprocessableEntity, "no push source \"nope\"" },
        // [1]
        { "/push", Wire.MsgPack, "9101", HttpStatusCode.BadRequest, "the body must be a MessagePack map" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Each_refusal_has_its_status_and_says_why_in_the_requests_encoding(string path, string contentType, string body, HttpStatusCode status, string message)
    {
        byte[] bytes = contentType == Wire.MsgPack ? Convert.FromHexString(body) : Encoding.UTF8.GetBytes(body);

        using var response = await PostAsync(Client, path, bytes, contentType);

        Assert.Equal(status, response.StatusCode);
        string answerType = contentType == Wire.MsgPack ? Wire.MsgPack : Wire.Json;
        Assert.Equal(answerType, response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(message, Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), answerType), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_past_the_limit_is_refused_with_413()
    {
        string json = $$$"""{"features": ["user_activity:ctr_24h"], "entities": {"user_id": [{{{string.Join(",", Enumerable.Repeat("1", (int)(FeatureRoutesFixture.MaxBody / 2)))}}}]}}""";

        using var response = await PostJsonAsync("/get-online-features", json);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("LowLatency:MaxRequestBodyBytes", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_the_near_caches_rows_served_and_missed_and_export_its_gauges()
    {
        Assert.NotNull(fixture.App.Services.GetService<FeatureStore>());
        long item = NextId();
        await OkJsonAsync(await PostJsonAsync("/push", ItemPush(item, Recent())));
        string read = string.Create(CultureInfo.InvariantCulture, $$$"""{"features": ["item_static:price"], "entities": {"item_id": [{{{item}}}]}}""");
        // The push dropped the row from the near cache: this read fetches it.
        await OkJsonAsync(await PostJsonAsync("/get-online-features", read));
        string before = await Client.GetStringAsync("/metrics");
        Assert.True(Sample(before, "lowlatency_features_cache_misses") >= 1, before);
        Assert.True(Sample(before, "lowlatency_features_store_rows{outcome=\"found\",store=\"default\"}") >= 1, before);
        Assert.True(Sample(before, "lowlatency_features_store_fetch_duration_count{store=\"default\"}") >= 1, before);

        // Served from the near cache (read again while a stalled host let the row go stale). The
        // series are process-wide and other tests read too: at least this read's row is counted.
        string after = before;
        for (int attempt = 0; attempt < 5 && Sample(after, "lowlatency_features_cache_hits") < Sample(before, "lowlatency_features_cache_hits") + 1; attempt++)
        {
            await OkJsonAsync(await PostJsonAsync("/get-online-features", read));
            after = await Client.GetStringAsync("/metrics");
        }

        Assert.True(Sample(after, "lowlatency_features_cache_hits") >= Sample(before, "lowlatency_features_cache_hits") + 1, after);
        Assert.True(Sample(after, "lowlatency_features_cache_staleness_count") >= Sample(before, "lowlatency_features_cache_staleness_count") + 1, after);

        // The gauges come through prometheus-net's meter adapter, which makes a series at its first
        // collection after an instrument's first measurement: scrape until it is there.
        for (int scrape = 0; scrape < 50 && !after.Contains("lowlatency_features_cache_bytes", StringComparison.Ordinal); scrape++)
        {
            after = await Client.GetStringAsync("/metrics");
        }

        Assert.Contains("lowlatency_features_cache_bytes", after, StringComparison.Ordinal);
    }

    /// <summary>The value of a series (its labels written as the text has them) in Prometheus text; 0 where it has no sample yet.</summary>
    private static double Sample(string text, string series)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line.AsSpan(series.Length + 1), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [Fact]
    public async Task With_authentication_on_reads_need_features_read_and_pushes_features_write()
    {
        using var models = new TempRepository();
        string[] args =
        [
            "--feature-repository", TempFeatureRepository.Example,
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-the-ranker", "--LowLatency:Auth:ApiKeys:0:Subject=ranker", "--LowLatency:Auth:ApiKeys:0:Scopes:0=features:read",
            "--LowLatency:Auth:ApiKeys:1:Key=key-of-the-stream-job", "--LowLatency:Auth:ApiKeys:1:Subject=stream-job", "--LowLatency:Auth:ApiKeys:1:Scopes:0=features:write",
            "--LowLatency:Auth:ApiKeys:2:Key=key-of-the-model-caller", "--LowLatency:Auth:ApiKeys:2:Subject=caller", "--LowLatency:Auth:ApiKeys:2:Scopes:0=infer:*",
        ];
        var (app, address) = await ServerFixture.StartAsync(models.Root, args);
        try
        {
            using var client = new HttpClient { BaseAddress = address };
            byte[] read = Encoding.UTF8.GetBytes("""{"features": ["user_activity:ctr_24h"], "entities": {"user_id": [1]}}""");
            byte[] push = Encoding.UTF8.GetBytes(UserPush(NextId(), Recent()));

            foreach (var (path, body) in new[] { ("/get-online-features", read), ("/push", push) })
            {
                using var anonymous = await PostAsync(client, path, body, Wire.Json);
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
                Assert.Contains("authentication required", Wire.ErrorOf(await anonymous.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
            }

            await AssertStatusAsync(client, "/get-online-features", read, "key-of-the-ranker", HttpStatusCode.OK, null);
            await AssertStatusAsync(client, "/push", push, "key-of-the-ranker", HttpStatusCode.Forbidden, "'ranker' lacks the scope 'features:write'");
            await AssertStatusAsync(client, "/push", push, "key-of-the-stream-job", HttpStatusCode.OK, null);
            await AssertStatusAsync(client, "/get-online-features", read, "key-of-the-stream-job", HttpStatusCode.Forbidden, "'stream-job' lacks the scope 'features:read'");
            await AssertStatusAsync(client, "/get-online-features", read, "key-of-the-model-caller", HttpStatusCode.Forbidden, "lacks the scope 'features:read'");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Reads_and_pushes_spend_the_clients_rate_limit_as_inference_does()
    {
        using var models = new TempRepository();
        string[] args =
        [
            "--feature-repository", TempFeatureRepository.Example,
            "--LowLatency:Auth:ApiKeys:0:Key=key-of-the-ranker", "--LowLatency:Auth:ApiKeys:0:Subject=ranker",
            "--LowLatency:Auth:ApiKeys:0:Scopes:0=features:read", "--LowLatency:Auth:ApiKeys:0:Scopes:1=features:write",
            "--LowLatency:Auth:ApiKeys:1:Key=key-of-the-other", "--LowLatency:Auth:ApiKeys:1:Subject=other", "--LowLatency:Auth:ApiKeys:1:Scopes:0=features:read",
            "--LowLatency:RateLimits:PerClient:TokensPerSecond=0.01", "--LowLatency:RateLimits:PerClient:Burst=3",
        ];
        var (app, address) = await ServerFixture.StartAsync(models.Root, args);
        try
        {
            using var client = new HttpClient { BaseAddress = address };
            byte[] read = Encoding.UTF8.GetBytes("""{"features": ["user_activity:ctr_24h"], "entities": {"user_id": [1]}}""");
            byte[] push = Encoding.UTF8.GetBytes(UserPush(NextId(), Recent()));
            await AssertStatusAsync(client, "/get-online-features", read, "key-of-the-ranker", HttpStatusCode.OK, null);
            await AssertStatusAsync(client, "/push", push, "key-of-the-ranker", HttpStatusCode.OK, null);
            await AssertStatusAsync(client, "/get-online-features", read, "key-of-the-ranker", HttpStatusCode.OK, null);
            foreach (var (path, body) in new[] { ("/get-online-features", read), ("/push", push) })
            {
                using var limited = await PostAsync(client, path, body, Wire.Json, "key-of-the-ranker");
                Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
                Assert.True(limited.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
                Assert.Contains("rate limit exceeded for client 'ranker'", Wire.ErrorOf(await limited.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
            }

            // Another client has its own bucket.
            await AssertStatusAsync(client, "/get-online-features", read, "key-of-the-other", HttpStatusCode.OK, null);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task AssertStatusAsync(HttpClient client, string path, byte[] body, string apiKey, HttpStatusCode status, string? message)
    {
        using var response = await PostAsync(client, path, body, Wire.Json, apiKey);
        byte[] answer = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == status, $"{path} with {apiKey}: {response.StatusCode} {Encoding.UTF8.GetString(answer)}");
        if (message is not null)
        {
            Assert.Contains(message, Wire.ErrorOf(answer, Wire.Json), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_a_feature_repository_the_routes_answer_404_saying_what_to_set()
    {
        using var models = new TempRepository();
        var (app, address) = await ServerFixture.StartAsync(models.Root);
        try
        {
            Assert.Null(app.Services.GetService<FeatureStore>());
            using var client = new HttpClient { BaseAddress = address };
            foreach (string path in new[] { "/get-online-features", "/push" })
            {
                using var response = await PostAsync(client, path, "{}"u8.ToArray(), Wire.Json);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.Contains("--feature-repository", Wire.ErrorOf(await response.Content.ReadAsByteArrayAsync(), Wire.Json), StringComparison.Ordinal);
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void An_invalid_feature_repository_refuses_start_up_naming_its_file_and_field()
    {
        using var models = new TempRepository();
        using var repository = new TempFeatureRepository();
        repository.Edit("user.json", root => root["feature_views"]![0]!["schema"]![0]!["dtype"] = "FLOAT");

        var e = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", models.Root, "--feature-repository", repository.Root]));

        Assert.Contains("LowLatency:FeatureRepository", e.Message, StringComparison.Ordinal);
        Assert.Contains("user.json: field 'feature_views[0].schema[0].dtype'", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"FLOAT\" is not supported", e.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<StartupRefusedException>(() => LowLatencyServer.Build(["--urls", "http://127.0.0.1:0", "--model-repository", models.Root, "--feature-repository", repository.Root + "-not-there"]));
        Assert.Contains("is not a folder", missing.Message, StringComparison.Ordinal);
    }
}
