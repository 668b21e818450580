using System.Text.Json;
using LowLatency.Features.Serving;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.Features;

/// <summary>
/// The operations behind Feast's routes, on the example repository as shipped (the embedded
/// default): answers shaped as Feast's, column by column, with a status and an event time per value,
/// and refusals of the kinds Feast answers with. Each test uses ids of its own.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class FeatureServerTests(EmbeddedStoreFixture fixture) : IClassFixture<EmbeddedStoreFixture>
{
    private static int _nextId = 1000;

    private FeatureServer Server => fixture.Store.Server;

    private static long[] Ids(int n) => Enumerable.Range(0, n).Select(_ => (long)Interlocked.Increment(ref _nextId)).ToArray();

    private static Dictionary<string, IReadOnlyList<object?>> Entities(params (string Key, object?[] Values)[] columns) =>
        columns.ToDictionary(c => c.Key, c => (IReadOnlyList<object?>)c.Values);

    [Fact]
    public async Task The_feature_service_answers_column_by_column_with_statuses_and_event_times()
    {
        Assert.Equal(LowLatency.Features.Definitions.OnlineStoreKind.Embedded, fixture.Store.Repository.OnlineStore("default")!.Kind);
        var users = Ids(2);
        var items = Ids(2);
        var now = Rows.Now();
        await Server.PushAsync(Push.UserActivity(users, [now.AddMinutes(-1), now.AddMinutes(-2)]));
        await Server.PushAsync(Push.ItemStatic(items, [now.AddDays(-30), now.AddDays(-30)]));

        var answer = await Server.GetOnlineFeaturesAsync(new GetOnlineFeaturesRequest
        {
            FeatureService = "ctr_ranker",
            Entities = Entities(("user_id", [users[0], users[1], 1L]), ("item_id", [items[0], 2L, items[1]])),
        });

        Assert.Equal(["user_id", "item_id", "clicks_1h", "impressions_1h", "clicks_24h", "impressions_24h", "ctr_24h", "ctr_7d", "recent_categories", "category", "subcategory", "brand", "price", "quality_score", "title_embedding"], answer.FeatureNames);
        Assert.Equal(answer.FeatureNames.Count, answer.Results.Count);
        Assert.Equal([users[0], users[1], 1L], answer.Results[0].Values);
        Assert.All(answer.Results[0].Statuses, s => Assert.Equal(FieldStatus.Present, s));
        Assert.All(answer.Results[0].EventTimestamps, t => Assert.Equal(DateTimeOffset.UnixEpoch, t));

        var clicks = answer.Results[2];
        Assert.Equal([(float)users[0], (float)users[1], null], clicks.Values);
        Assert.Equal([FieldStatus.Present, FieldStatus.Present, FieldStatus.NotFound], clicks.Statuses);
        Assert.Equal([now.AddMinutes(-1), now.AddMinutes(-2), DateTimeOffset.UnixEpoch], clicks.EventTimestamps);
        Assert.Equal(new long[] { users[0], users[0] + 1, users[0] + 2, users[0] + 3 }, Assert.IsType<long[]>(answer.Results[8].Values[0]));
        Assert.Equal(0.05f, answer.Results[7].Values[1]);

        var category = answer.Results[9];
        Assert.Equal([items[0] % 7, null, items[1] % 7], category.Values);
        Assert.Equal([FieldStatus.Present, FieldStatus.NotFound, FieldStatus.Present], category.Statuses);
        Assert.Equal((float)(9.99 + items[1]), answer.Results[12].Values[2]);
        Assert.Equal(8, Assert.IsType<float[]>(answer.Results[14].Values[0]).Length);
    }

    [Fact]
    public async Task Full_feature_names_are_view__feature()
    {
        var answer = await Server.GetOnlineFeaturesAsync(new GetOnlineFeaturesRequest
        {
            Features = ["item_static:price", "user_activity:ctr_24h"],
            Entities = Entities(("item_id", [1L]), ("user_id", [2L])),
            FullFeatureNames = true,
        });

        Assert.Equal(["item_id", "user_id", "item_static__price", "user_activity__ctr_24h"], answer.FeatureNames);
    }

    [Fact]
    public async Task A_push_is_read_back_at_once_through_the_near_cache_and_an_older_one_is_skipped()
    {
        var id = Ids(1);
        var now = Rows.Now();
        var request = new GetOnlineFeaturesRequest { Features = ["user_activity:ctr_24h"], Entities = Entities(("user_id", [id[0]])) };
        Assert.Equal(FieldStatus.NotFound, (await Server.GetOnlineFeaturesAsync(request)).Results[1].Statuses[0]);

        Assert.Equal(new PushResult(1, 0), await Server.PushAsync(Push.UserActivity(id, [now])));
        Assert.Equal(id[0] / 10f, (await Server.GetOnlineFeaturesAsync(request)).Results[1].Values[0]);

        var older = Push.UserActivity(id, [now.AddSeconds(-1)]);
        ((List<object?>)older.Df["ctr_24h"])[0] = 0.9;
        Assert.Equal(new PushResult(0, 1), await Server.PushAsync(older));
        Assert.Equal(id[0] / 10f, (await Server.GetOnlineFeaturesAsync(request)).Results[1].Values[0]);
    }

    [Fact]
    public async Task A_push_as_a_json_reader_gives_it_is_taken()
    {
        var id = Ids(1)[0];
        using var doc = JsonDocument.Parse($$"""
            {"item_id": [{{id}}], "event_timestamp": ["2026-01-02T03:04:05.123456Z"], "category": [3], "subcategory": [4], "brand": [5],
             "price": [12.5], "quality_score": [0.25], "title_embedding": [[1, 2, 3, 4, 5, 6, 7, 8.5]]}
            """);
        var df = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (IReadOnlyList<object?>)p.Value.EnumerateArray().Select(e => (object?)e).ToList());

        await Server.PushAsync(new PushRequest { PushSourceName = "item_catalog_push", Df = df });
        var answer = await Server.GetOnlineFeaturesAsync(new GetOnlineFeaturesRequest
        {
            Features = ["item_static:price", "item_static:title_embedding"],
            Entities = new Dictionary<string, IReadOnlyList<object?>> { ["item_id"] = [doc.RootElement.GetProperty("item_id")[0]] },
        });

        Assert.Equal(12.5f, answer.Results[1].Values[0]);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 7, 8.5f }, answer.Results[2].Values[0]);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1_234_560), answer.Results[1].EventTimestamps[0]);
    }

    public static TheoryData<string, FeatureErrorKind, string> RefusedReads() => new()
    {
        // features (comma-separated) or "service:name", the entity columns as "key=v1|v2;key2=...", the kind, part of the message
        { "nope:clicks_1h", FeatureErrorKind.NotFound, "no feature view \"nope\"" },
        { "user_activity:nope", FeatureErrorKind.NotFound, "has no feature \"nope\"" },
        { "service:nope", FeatureErrorKind.NotFound, "no feature service \"nope\"" },
        { "clicks_1h", FeatureErrorKind.BadRequest, "write \"view:feature\"" },
        { "user_activity:clicks_1h,user_activity:clicks_1h", FeatureErrorKind.BadRequest, "asked for twice" },
        { "", FeatureErrorKind.BadRequest, "\"features\" (a list of \"view:feature\") or \"feature_service\" is required" },
        { "item_static:price", FeatureErrorKind.BadRequest, "the entity column \"item_id\" is required" },
        { "user_activity:clicks_1h;extra", FeatureErrorKind.BadRequest, "\"item_id\" is not the join key of any feature view asked for" },
        { "user_activity:clicks_1h;lengths", FeatureErrorKind.BadRequest, "differ in length" },
        { "user_activity:clicks_1h;text", FeatureErrorKind.BadRequest, "\"user_id\"[1]: \"abc\" is not an id of the entity \"user\"" },
    };

    [Theory]
    [MemberData(nameof(RefusedReads))]
    public async Task A_read_that_cannot_be_answered_is_refused_saying_why(string features, FeatureErrorKind kind, string message)
    {
        string[] parts = features.Split(';');
        var entities = parts.Length == 1 ? Entities(("user_id", [1L])) : parts[1] switch
        {
            "extra" => Entities(("user_id", [1L]), ("item_id", [2L])),
            "lengths" => Entities(("user_id", [1L, 2L]), ("item_id", [2L])),
            _ => Entities(("user_id", [1L, "abc"])),
        };
        var request = parts[0].StartsWith("service:", StringComparison.Ordinal)
            ? new GetOnlineFeaturesRequest { FeatureService = parts[0][8..], Entities = entities }
            : new GetOnlineFeaturesRequest { Features = parts[0].Length == 0 ? [] : parts[0].Split(','), Entities = entities };

        var e = await Assert.ThrowsAsync<FeatureServerException>(async () => await Server.GetOnlineFeaturesAsync(request));

        Assert.Equal(kind, e.Kind);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, FeatureErrorKind, string> RefusedPushes() => new()
    {
        { "source", FeatureErrorKind.UnknownPushSource, "no push source \"nope\"" },
        { "offline", FeatureErrorKind.BadRequest, "needs an offline store" },
        { "to", FeatureErrorKind.BadRequest, "\"to\": \"somewhere\" is not supported" },
        { "missing", FeatureErrorKind.BadRequest, "the column \"ctr_7d\" is required" },
        { "unknown", FeatureErrorKind.BadRequest, "the column \"ctr_30d\" is not a join key, feature or timestamp" },
        { "value", FeatureErrorKind.BadRequest, "\"clicks_1h\"[0]: \"many\" is not a FP32 value" },
        { "null", FeatureErrorKind.BadRequest, "\"clicks_1h\"[0]: null is not a FP32 value" },
        { "list", FeatureErrorKind.BadRequest, "\"recent_categories\"[0]: " },
        { "time", FeatureErrorKind.BadRequest, "\"event_timestamp\"[0]: \"yesterday\" is not an event time" },
        { "before1970", FeatureErrorKind.BadRequest, "is not an event time" },
        { "id", FeatureErrorKind.BadRequest, "\"user_id\"[0]: 1.5 is not an id" },
    };

    [Theory]
    [MemberData(nameof(RefusedPushes))]
    public async Task A_push_that_cannot_be_written_is_refused_saying_why_and_writes_nothing(string change, FeatureErrorKind kind, string message)
    {
        long id = Ids(1)[0];
        var push = Push.UserActivity([id], [Rows.Now()]);
        var df = (Dictionary<string, IReadOnlyList<object?>>)push.Df;
        switch (change)
        {
            case "source": push = new PushRequest { PushSourceName = "nope", Df = df }; break;
            case "offline": push = new PushRequest { PushSourceName = push.PushSourceName, Df = df, To = "online_and_offline" }; break;
            case "to": push = new PushRequest { PushSourceName = push.PushSourceName, Df = df, To = "somewhere" }; break;
            case "missing": df.Remove("ctr_7d"); break;
            case "unknown": df["ctr_30d"] = [0.1]; break;
            case "value": df["clicks_1h"] = ["many"]; break;
            case "null": df["clicks_1h"] = [null]; break;
            case "list": df["recent_categories"] = [new long[] { 1, 2, 3 }]; break;
            case "time": df["event_timestamp"] = ["yesterday"]; break;
            case "before1970": df["event_timestamp"] = ["1969-12-31T23:59:59Z"]; break;
            case "id": df["user_id"] = [1.5]; break;
        }

        var e = await Assert.ThrowsAsync<FeatureServerException>(async () => await Server.PushAsync(push));

        Assert.Equal(kind, e.Kind);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        var read = await Server.GetOnlineFeaturesAsync(new GetOnlineFeaturesRequest { Features = ["user_activity:clicks_1h"], Entities = Entities(("user_id", [id])) });
        Assert.Equal(FieldStatus.NotFound, read.Results[1].Statuses[0]);
    }
}
