using System.Text.Json.Nodes;
using LowLatency.Features.Definitions;

namespace LowLatency.Tests.Features;

public sealed class FeatureRepositoryReaderTests
{
    [Fact]
    public void The_example_repository_reads_as_documented()
    {
        var repo = FeatureRepositoryReader.Read(TempFeatureRepository.Example);

        Assert.Equal("ranking", repo.Project);
        var store = Assert.Single(repo.OnlineStores);
        Assert.Equal(("default", OnlineStoreKind.Embedded), (store.Name, store.Kind));
        Assert.Equal(64L << 20, repo.NearCache.CapacityBytes);
        Assert.Equal(TimeSpan.FromSeconds(1), repo.NearCache.MaxStaleness);

        var user = repo.Entity("user")!;
        Assert.Equal(("user_id", EntityValueType.Int64), (user.JoinKey, user.ValueType));

        var activity = repo.FeatureView("user_activity")!;
        Assert.Same(user, activity.Entity);
        Assert.Equal(TimeSpan.FromDays(1), activity.Ttl);
        Assert.Same(repo.PushSource("user_activity_push"), activity.Source);
        Assert.Equal(["clicks_1h", "impressions_1h", "clicks_24h", "impressions_24h", "ctr_24h", "ctr_7d", "recent_categories"], activity.Features.Select(f => f.Name));
        Assert.Equal((6 * 4) + (4 * 8), activity.RowBytes);
        var recent = activity.Feature("recent_categories")!;
        Assert.Equal((FeatureDataType.Int64, 4, 24, 32), (recent.DataType, recent.ElementCount, recent.Offset, recent.ByteSize));
        Assert.Equal(0.02f, BitConverter.ToSingle(activity.DefaultRow.Span[16..20]));

        var item = repo.FeatureView("item_static")!;
        Assert.Equal(TimeSpan.Zero, item.Ttl);
        Assert.Equal((3 * 8) + (2 * 4) + (8 * 4), item.RowBytes);
        Assert.Equal(0.5f, BitConverter.ToSingle(item.DefaultRow.Span[28..32]));

        var service = repo.FeatureService("ctr_ranker")!;
        Assert.Equal(13, service.Features.Count);
        Assert.Equal("user_activity:clicks_1h", service.Features[0].ToString());
        Assert.Equal([activity], repo.PushSource("user_activity_push")!.Views);
        Assert.Equal([0, 1], repo.FeatureViews.Select(v => v.Index));
    }

    [Fact]
    public void A_layout_change_changes_the_fingerprint_and_a_default_does_not()
    {
        using var temp = new TempFeatureRepository();
        uint before = FeatureRepositoryReader.Read(temp.Root).FeatureView("item_static")!.Fingerprint;

        temp.Edit("item.json", n => n["feature_views"]![0]!["schema"]![3]!["default"] = 9.5);
        Assert.Equal(before, FeatureRepositoryReader.Read(temp.Root).FeatureView("item_static")!.Fingerprint);

        temp.Edit("item.json", n => n["feature_views"]![0]!["schema"]![3]!["dtype"] = "FP64");
        Assert.NotEqual(before, FeatureRepositoryReader.Read(temp.Root).FeatureView("item_static")!.Fingerprint);
    }

    [Fact]
    public void A_connection_string_takes_environment_variables()
    {
        using var temp = new TempFeatureRepository();
        temp.Edit("feature_store.json", n => n["online_stores"] = new JsonObject
        {
            ["default"] = new JsonObject { ["type"] = "redis", ["connection_string"] = "redis.internal:6379,password=${REDIS_PASSWORD}", ["redis_type"] = "redis_cluster" },
        });

        var store = FeatureRepositoryReader.Read(temp.Root, name => name == "REDIS_PASSWORD" ? "s3cret" : null).OnlineStores[0];

        Assert.Equal((OnlineStoreKind.Redis, "redis.internal:6379,password=s3cret", RedisTopology.Cluster), (store.Kind, store.ConnectionString, store.RedisType));
    }

    [Fact]
    public void Without_online_stores_the_default_is_the_embedded_one()
    {
        using var temp = new TempFeatureRepository();
        temp.Edit("feature_store.json", n => n.AsObject().Remove("online_stores"));

        var store = Assert.Single(FeatureRepositoryReader.Read(temp.Root).OnlineStores);

        Assert.Equal(("default", OnlineStoreKind.Embedded), (store.Name, store.Kind));
    }

    public static TheoryData<string, string, string, string> InvalidFields() => new()
    {
        // file, JSON path to set (or "-path" to remove) "=" a JSON value, the field reported, part of the message
        { "feature_store.json", "projct=\"x\"", "projct", "unknown field" },
        { "feature_store.json", "-format_version", "format_version", "is required" },
        { "feature_store.json", "format_version=2", "format_version", "out of range [1, 1]" },
        { "feature_store.json", "project=\"my-project\"", "project", "not a valid name" },
        { "feature_store.json", "online_stores.default.type=\"memcached\"", "online_stores.default.type", "\"memcached\" is not supported" },
        { "feature_store.json", "online_stores.default={\"type\":\"redis\"}", "online_stores.default.connection_string", "is required" },
        { "feature_store.json", "online_stores.default.connection_string=\"localhost:6379\"", "online_stores.default.connection_string", "the embedded store needs none" },
        { "feature_store.json", "online_stores.default={\"type\":\"redis\",\"connection_string\":\"h:1\",\"redis_type\":\"sentinel\"}", "online_stores.default.redis_type", "\"sentinel\" is not supported" },
        { "feature_store.json", "online_stores.default={\"type\":\"redis\",\"connection_string\":\"h:1,password=${LL_TEST_UNSET}\"}", "online_stores.default.connection_string", "LL_TEST_UNSET, which is not set" },
        { "feature_store.json", "online_stores.default.pool=3", "online_stores.default.pool", "unknown field" },
        { "feature_store.json", "online_stores.default.read_timeout_ms=0", "online_stores.default.read_timeout_ms", "out of range [1, 60000]" },
        { "feature_store.json", "online_stores.my-store={\"type\":\"embedded\"}", "online_stores.my-store", "not a valid name" },
        { "feature_store.json", "near_cache.capacity_bytes=-1", "near_cache.capacity_bytes", "out of range" },
        { "feature_store.json", "near_cache.max_staleness_ms=\"1s\"", "near_cache.max_staleness_ms", "expected an integer" },
        { "feature_store.json", "near_cache.ttl=1", "near_cache.ttl", "unknown field" },
        { "user.json", "entitys=[]", "entitys", "unknown field" },
        { "user.json", "entities[0].join_keys=[\"a\",\"b\"]", "entities[0].join_keys", "exactly one" },
        { "user.json", "entities[0].value_type=\"FLOAT\"", "entities[0].value_type", "\"FLOAT\" is not supported" },
        { "user.json", "-entities[0].name", "entities[0].name", "is required" },
        { "user.json", "push_sources[0].timestamp_field=\"event time\"", "push_sources[0].timestamp_field", "not a valid name" },
        { "user.json", "feature_views[0].schema[0].dtype=\"FLOAT\"", "feature_views[0].schema[0].dtype", "use one of BOOL, UINT8" },
        { "user.json", "feature_views[0].schema[0].dtyp=\"FP32\"", "feature_views[0].schema[0].dtyp", "unknown field" },
        { "user.json", "feature_views[0].schema[6].shape=[0]", "feature_views[0].schema[6].shape[0]", "out of range" },
        { "user.json", "feature_views[0].schema[6].shape=[1024,1024]", "feature_views[0].schema[6].shape", "more than 65536 elements" },
        { "user.json", "feature_views[0].schema[0].default=\"zero\"", "feature_views[0].schema[0].default", "is not a FP32 value" },
        { "user.json", "feature_views[0].schema[6].default=[1,2,3]", "feature_views[0].schema[6].default", "holds 3 elements; the shape has 4" },
        { "user.json", "feature_views[0].schema[6].default=[1,2,3.5,4]", "feature_views[0].schema[6].default[2]", "is not a INT64 value" },
        { "user.json", "feature_views[0].schema[1].name=\"clicks_1h\"", "feature_views[0].schema[1].name", "appears twice" },
        { "user.json", "feature_views[0].schema[0].name=\"user_id\"", "feature_views[0].schema[0].name", "the entity's join key" },
        { "user.json", "feature_views[0].schema[0].name=\"event_timestamp\"", "feature_views[0].schema[0].name", "timestamp field" },
        { "user.json", "feature_views[0].schema=[]", "feature_views[0].schema", "at least one feature" },
        { "user.json", "feature_views[0].ttl_seconds=-5", "feature_views[0].ttl_seconds", "out of range" },
        { "user.json", "feature_views[0].ttl_seconds=1.5", "feature_views[0].ttl_seconds", "expected an integer" },
        { "user.json", "feature_views[0].entities=[\"usr\"]", "feature_views[0].entities[0]", "no entity \"usr\"" },
        { "user.json", "feature_views[0].entities=[\"user\",\"user\"]", "feature_views[0].entities", "exactly one" },
        { "user.json", "feature_views[0].online_store=\"other\"", "feature_views[0].online_store", "no online store \"other\"" },
        { "user.json", "feature_views[0].source=\"nope\"", "feature_views[0].source", "no push source \"nope\"" },
        { "user.json", "feature_views[0].tags={\"owner\":1}", "feature_views[0].tags.owner", "expected a string" },
        { "user.json", "entities[0].name=\"item\"", "entities[0].name", "the entity \"item\" is defined twice (first in item.json)" },
        { "ranking.json", "feature_services[0].features[0]=\"user_activity:nope\"", "feature_services[0].features[0]", "has no feature \"nope\"" },
        { "ranking.json", "feature_services[0].features[0]=\"no_view:clicks_1h\"", "feature_services[0].features[0]", "no feature view \"no_view\"" },
        { "ranking.json", "feature_services[0].features[0]=\"clicks_1h\"", "feature_services[0].features[0]", "write \"view:feature\"" },
        { "ranking.json", "feature_services[0].features[1]=\"user_activity:clicks_1h\"", "feature_services[0].features[1]", "appears twice" },
        { "ranking.json", "feature_services[0].features=[]", "feature_services[0].features", "at least one feature" },
        { "ranking.json", "feature_services[0].features=\"user_activity:clicks_1h\"", "feature_services[0].features", "expected an array" },
    };

    [Theory]
    [MemberData(nameof(InvalidFields))]
    public void Every_invalid_field_is_named_with_its_file(string file, string change, string field, string message)
    {
        using var temp = new TempFeatureRepository();
        temp.Edit(file, root => Apply(root, change));

        var e = Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(temp.Root, _ => null));

        Assert.Equal(Path.Combine(temp.Root, file), e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{e.File}: field '{field}': ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_default_that_does_not_fit_its_type_is_refused()
    {
        using var temp = new TempFeatureRepository();
        temp.Edit("item.json", n => n["feature_views"]![0]!["schema"]![0]!["dtype"] = "INT8");
        temp.Edit("item.json", n => n["feature_views"]![0]!["schema"]![0]!["default"] = 300);

        var e = Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(temp.Root));

        Assert.Equal("feature_views[0].schema[0].default", e.Field);
        Assert.Contains("300 is not a INT8 value", e.Message.Replace("\"", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_files_name_the_file()
    {
        using var temp = new TempFeatureRepository();
        temp.Write("user.json", "{ \"format_version\": 1, ");

        var e = Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(temp.Root));

        Assert.Equal(Path.Combine(temp.Root, "user.json"), e.File);
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_feature_store_json_is_refused()
    {
        using var temp = new TempFeatureRepository();
        File.Delete(Path.Combine(temp.Root, "feature_store.json"));

        var e = Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(temp.Root));

        Assert.EndsWith("feature_store.json", e.File, StringComparison.Ordinal);
        Assert.Throws<FeatureRepositoryException>(() => FeatureRepositoryReader.Read(Path.Combine(temp.Root, "missing")));
    }

    // "a.b[1].c=value" sets a node (creating objects on the way); "-a.b" removes one.
    private static void Apply(JsonNode root, string change)
    {
        bool remove = change.StartsWith('-');
        string path = remove ? change[1..] : change[..change.IndexOf('=', StringComparison.Ordinal)];
        var steps = path.Replace("[", ".[", StringComparison.Ordinal).Split('.');
        var node = root;
        for (int i = 0; i < steps.Length - 1; i++)
        {
            node = Step(node, steps[i]) ?? throw new InvalidOperationException("no " + steps[i] + " in " + path);
        }

        string last = steps[^1];
        if (remove)
        {
            if (last.StartsWith('['))
            {
                node.AsArray().RemoveAt(Index(last));
            }
            else
            {
                node.AsObject().Remove(last);
            }

            return;
        }

        var value = JsonNode.Parse(change[(change.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        if (last.StartsWith('['))
        {
            node.AsArray()[Index(last)] = value;
        }
        else
        {
            node.AsObject()[last] = value;
        }
    }

    private static JsonNode? Step(JsonNode node, string step) => step.StartsWith('[') ? node.AsArray()[Index(step)] : node[step];

    private static int Index(string step) => int.Parse(step.AsSpan(1, step.Length - 2), System.Globalization.CultureInfo.InvariantCulture);
}
